import { useState } from "react";
import { useQuery } from "urql";
import { run } from "../api/client";
import { asError, describe, type CodedError } from "../api/errors";
import type { QuotaQuery, StartRenderMutation, StartRenderMutationVariables } from "../api/generated";
import { QUOTA, START_RENDER } from "../api/operations";
import { ErrorNote } from "./ErrorNote";
import { bytes } from "../lib/format";
import { navigate } from "../lib/router";

interface Props { projectId: string; scriptText: string; hasNarration: boolean; hasSource: boolean }

export function RenderForm({ projectId, scriptText, hasNarration, hasSource }: Props) {
  const [{ data }] = useQuery<QuotaQuery>({ query: QUOTA, variables: {} });
  const [profile, setProfile] = useState("720p");
  const [narration, setNarration] = useState("tts");
  const [burn, setBurn] = useState(false);
  const [review, setReview] = useState(true);
  const [upscale, setUpscale] = useState(false);
  const [error, setError] = useState<CodedError | null>(null);
  const [busy, setBusy] = useState(false);
  const quota = data?.quota;
  const full = quota ? quota.usage.concurrentJobs >= quota.limits.concurrentJobs : false;

  async function start() {
    setBusy(true);
    setError(null);
    try {
      const result = await run<StartRenderMutation, StartRenderMutationVariables>(START_RENDER, {
        projectId,
        // upscale: an UpscaleInput ({} = realesr-animevideov3 to UHD_4K) or null for none
        options: { profile, narration, burnCaptions: burn, review, upscale: upscale ? {} : null,
                   scriptText: scriptText.trim() ? scriptText : null },
      });
      const err = asError(result.startRender);
      if (err) setError(err);
      else if (result.startRender.__typename === "JobPayload") navigate(`/jobs/${result.startRender.job.id}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="render-form" aria-label="Start a render" onSubmit={(e) => { e.preventDefault(); void start(); }}>
      <h3>Render</h3>
      {quota && (
        <p className="muted" data-testid="quota">
          Plan use: {quota.usage.concurrentJobs} of {quota.limits.concurrentJobs} renders running ·{" "}
          {quota.usage.processingMinutes.toFixed(1)} of {quota.limits.processingMinutesPerMonth} minutes this month ·{" "}
          {bytes(quota.usage.storageBytes)} of {bytes(quota.limits.storageBytes)} stored
        </p>)}
      <label>Profile
        <select value={profile} onChange={(e) => setProfile(e.target.value)}>
          <option value="720p">720p</option><option value="1080p">1080p</option><option value="source">Source (copy)</option>
        </select></label>
      <fieldset><legend>Narration</legend>
        <label><input type="radio" name="narration" checked={narration === "tts"} onChange={() => setNarration("tts")} />
          Synthesised voice</label>
        <label><input type="radio" name="narration" checked={narration === "recorded"} disabled={!hasNarration}
                      onChange={() => setNarration("recorded")} /> My recorded narration</label>
      </fieldset>
      <label><input type="checkbox" checked={burn} onChange={(e) => setBurn(e.target.checked)} /> Burn in captions</label>
      <label><input type="checkbox" checked={review} onChange={(e) => setReview(e.target.checked)} />
        Let me review the alignment before the cut</label>
      <label><input type="checkbox" checked={upscale} onChange={(e) => setUpscale(e.target.checked)} />
        Upscale to 4K (needs a GPU worker)</label>
      {full && <p className="error">All your plan's render slots are in use; wait for one to finish.</p>}
      {error && <ErrorNote error={error} />}
      {error?.field && <p className="muted">About: {error.field}</p>}
      <button type="submit" disabled={busy || !hasSource} title={hasSource ? "" : "Upload a source video first"}>
        Start render</button>
      {!hasSource && <p className="muted">{describe({ code: "VALIDATION_FAILED", message: "upload a source video first" })}</p>}
    </form>
  );
}
