// Alignment review, the heart of the console: per beat its text, narration length, confidence,
// the chosen clip(s) playable in place, the aligner's alternatives, trimming on a thumbnail
// strip, keyboard shortcuts (j/k or arrows: next/previous beat; a: accept and go on), save, approve.
import { useCallback, useEffect, useMemo, useState } from "react";
import { useQuery } from "urql";
import { run } from "../api/client";
import { asError, type CodedError } from "../api/errors";
import type { AlignmentQuery, AlignmentQueryVariables, ApproveAlignmentMutation, ApproveAlignmentMutationVariables,
  UpdateAlignmentMutation, UpdateAlignmentMutationVariables } from "../api/generated";
import { ALIGNMENT, APPROVE_ALIGNMENT, UPDATE_ALIGNMENT } from "../api/operations";
import { clipsSeconds, editsOf, needsReview, overlapsOtherBeat, readAlignment, trimClip, type Beat, type Clip }
  from "../lib/alignment";
import { timecode } from "../lib/format";
import { ClipPlayer } from "./ClipPlayer";
import { ErrorNote } from "./ErrorNote";
import { ThumbStrip } from "./ThumbStrip";

function BeatList({ beats, current, accepted, edited, onPick }: {
  beats: Beat[]; current: number; accepted: Set<number>; edited: Record<number, Clip[]>; onPick: (i: number) => void }) {
  return (
    <ol className="beats" aria-label="Beats">
      {beats.map((b, i) => (
        <li key={b.index} className={i === current ? "current" : ""}>
          <button type="button" onClick={() => onPick(i)} aria-current={i === current ? "true" : undefined}
                  data-testid={`beat-${b.index}`}>
            <span className={needsReview(b) ? "badge low" : "badge"}>{Math.round(b.confidence * 100)}%</span>
            {needsReview(b) && <span className="sr-only">needs review</span>}
            {accepted.has(b.index) && <span aria-label="accepted"> ✓</span>}
            {edited[b.index] && <span aria-label="edited"> ✎</span>} {b.text.slice(0, 80)}
          </button>
        </li>))}
    </ol>
  );
}

export function ReviewPanel({ jobId, onApproved }: { jobId: string; onApproved: () => void }) {
  const [{ data, error }] = useQuery<AlignmentQuery, AlignmentQueryVariables>({ query: ALIGNMENT, variables: { jobId } });
  const payload = data?.alignment.__typename === "AlignmentPayload" ? data.alignment : null;
  const alignment = useMemo(() => (payload ? readAlignment(payload.alignment) : null), [payload]);
  const urls = useMemo(() => Object.fromEntries((payload?.media ?? []).map((m) => [m.sourceId, m.url])), [payload]);
  const [current, setCurrent] = useState(0);
  const [edited, setEdited] = useState<Record<number, Clip[]>>({});
  const [accepted, setAccepted] = useState<Set<number>>(new Set());
  const [problem, setProblem] = useState<CodedError | null>(null);
  const [saved, setSaved] = useState("");
  const beats = alignment?.beats ?? [];
  const beat = beats[current];
  const clips = beat ? edited[beat.index] ?? beat.clips : [];

  const accept = useCallback(() => {
    if (!beat) return;
    setAccepted((prev) => new Set(prev).add(beat.index));
    setCurrent((c) => Math.min(beats.length - 1, c + 1));
  }, [beat, beats.length]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target && ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName)) return;
      if (e.key === "j" || e.key === "ArrowDown") setCurrent((c) => Math.min(beats.length - 1, c + 1));
      else if (e.key === "k" || e.key === "ArrowUp") setCurrent((c) => Math.max(0, c - 1));
      else if (e.key === "a") accept();
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [beats.length, accept]);

  if (error) return <ErrorNote error={error.message} />;
  if (data && !payload) {
    const err = data.alignment as { code?: string; message?: string };
    return <ErrorNote error={{ code: err.code ?? "CONFLICT", message: err.message ?? "" }} />;
  }
  if (!alignment || !beat) return <p aria-busy="true">Loading the alignment…</p>;
  const duration = (source: string) => alignment.sources.find((s) => s.id === source)?.duration ?? 0;
  const setClips = (next: Clip[]) => setEdited((prev) => ({ ...prev, [beat.index]: next }));

  async function save(): Promise<boolean> {
    if (!alignment) return false;
    const beatsToSend = editsOf(alignment, edited);
    if (beatsToSend.length === 0) return true;
    const result = await run<UpdateAlignmentMutation, UpdateAlignmentMutationVariables>(UPDATE_ALIGNMENT,
      { jobId, beats: beatsToSend });
    const err = asError(result.updateAlignment);
    setProblem(err);
    if (!err) setSaved(`Saved ${beatsToSend.length} edited beat(s).`);
    return !err;
  }

  async function approve() {
    if (!(await save())) return;
    const result = await run<ApproveAlignmentMutation, ApproveAlignmentMutationVariables>(APPROVE_ALIGNMENT, { jobId });
    const err = asError(result.approveAlignment);
    setProblem(err);
    if (!err) onApproved();
  }

  return (
    <section className="review" aria-labelledby="review-title">
      <h2 id="review-title">Review the alignment</h2>
      <p className="muted">j/k or ↓/↑: next/previous beat · a: accept and go on. Low-confidence beats are marked.</p>
      <div className="review-grid">
        <BeatList beats={beats} current={current} accepted={accepted} edited={edited} onPick={setCurrent} />
        <div className="beat-detail" data-testid="beat-detail">
          <h3>Beat {beat.index + 1}</h3>
          <blockquote>{beat.text}</blockquote>
          <p>Narration {beat.target_duration.toFixed(1)} s · footage {clipsSeconds(clips).toFixed(1)} s ·
            confidence {Math.round(beat.confidence * 100)}%{needsReview(beat) ? " — needs review" : ""}</p>
          {clips.map((clip, ci) => {
            const url = urls[clip.source];
            return (
              <div key={`${clip.source}-${ci}`} className="clip">
                <p>{clip.source}: {timecode(clip.start)} – {timecode(clip.end)}</p>
                {url && <ClipPlayer url={url} start={clip.start} end={clip.end} label={`Clip ${ci + 1} of beat ${beat.index + 1}`} />}
                <div className="row">
                  <label>In <input type="number" step={0.1} value={clip.start} aria-label="Clip in point (seconds)"
                    onChange={(e) => setClips(clips.map((c, i) => (i === ci ? trimClip(c, Number(e.target.value), c.end, duration(c.source)) : c)))} /></label>
                  <label>Out <input type="number" step={0.1} value={clip.end} aria-label="Clip out point (seconds)"
                    onChange={(e) => setClips(clips.map((c, i) => (i === ci ? trimClip(c, c.start, Number(e.target.value), duration(c.source)) : c)))} /></label>
                </div>
                {url && <ThumbStrip url={url} from={Math.max(0, clip.start - 2)} to={Math.min(duration(clip.source), clip.end + 2)}
                  onIn={(t) => setClips(clips.map((c, i) => (i === ci ? trimClip(c, t, c.end, duration(c.source)) : c)))}
                  onOut={(t) => setClips(clips.map((c, i) => (i === ci ? trimClip(c, c.start, t, duration(c.source)) : c)))} />}
              </div>);
          })}
          <h4>Alternatives the aligner considered</h4>
          {(beat.alternatives ?? []).length === 0 && <p className="muted">None recorded for this beat.</p>}
          <ol className="alternatives">
            {(beat.alternatives ?? []).map((alt, ai) => {
              const clash = overlapsOtherBeat(alignment, edited, beat.index, alt.clips);
              return (
              <li key={ai}>
                {alt.clips.map((c) => `${c.source} ${timecode(c.start)}–${timecode(c.end)}`).join(", ")} · score {alt.score.toFixed(2)}
                {alt.clips[0] && urls[alt.clips[0].source] &&
                  <ClipPlayer url={urls[alt.clips[0].source]!} start={alt.clips[0].start} end={alt.clips[0].end}
                              label={`Alternative ${ai + 1}`} />}
                <button type="button" onClick={() => setClips(alt.clips.map(({ source, start, end }) => ({ source, start, end })))}
                        disabled={clash !== null} data-testid={`use-alternative-${ai}`}
                        aria-describedby={clash !== null ? `clash-${ai}` : undefined}>Use this</button>
                {clash !== null &&
                  <span id={`clash-${ai}`} className="muted"> (beat {clash + 1} uses this footage)</span>}
              </li>);
            })}
          </ol>
          <div className="row">
            <button type="button" onClick={accept}>Accept beat (a)</button>
            <button type="button" onClick={() => setEdited((prev) => Object.fromEntries(Object.entries(prev).filter(([k]) => Number(k) !== beat.index)))}>
              Undo changes</button>
          </div>
        </div>
      </div>
      <ErrorNote error={problem} />
      {saved && <p role="status">{saved}</p>}
      <div className="row">
        <button type="button" onClick={() => { void save(); }}>Save edits</button>
        <button type="button" className="primary" onClick={() => { void approve(); }}>Approve and cut</button>
      </div>
    </section>
  );
}
