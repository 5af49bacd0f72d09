import { useEffect, useState } from "react";
import { useQuery, useSubscription } from "urql";
import { run } from "../api/client";
import { asError, type CodedError } from "../api/errors";
import type { CancelJobMutation, CancelJobMutationVariables, JobProgressSubscription, JobQuery, JobQueryVariables,
  RetryJobMutation, RetryJobMutationVariables } from "../api/generated";
import { CANCEL_JOB, JOB, JOB_PROGRESS, RETRY_JOB } from "../api/operations";
import { ErrorNote } from "../components/ErrorNote";
import { Outputs } from "../components/Outputs";
import { ReviewPanel } from "../components/ReviewPanel";
import { seconds } from "../lib/format";

interface StageView { stage: string; state: string; progress: number; message: string }

function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => { const t = setInterval(() => setNow(Date.now()), ms); return () => clearInterval(t); }, [ms]);
  return now;
}

function mergeStages(base: StageView[], event: JobProgressSubscription["jobProgress"] | undefined): StageView[] {
  if (!event) return base;
  if (event.kind === "snapshot" && Array.isArray(event.stages)) {
    return (event.stages as Record<string, unknown>[]).map((s) => ({
      stage: String(s.stage ?? "").toUpperCase(), state: String(s.state ?? "").toUpperCase(),
      progress: Number(s.progress ?? 0), message: String(s.message ?? "") }));
  }
  if (!event.stage) return base;
  const name = event.stage.toUpperCase();
  return base.map((s) => (s.stage === name ? { ...s, state: event.state.toUpperCase(), progress: event.progress,
                                                 message: event.message } : s));
}

export function JobPage({ jobId }: { jobId: string }) {
  const [{ data }, refetch] = useQuery<JobQuery, JobQueryVariables>({ query: JOB, variables: { id: jobId } });
  const [stages, setStages] = useState<StageView[]>([]);
  const [live, setLive] = useState<{ state: string; progress: number; seq: number } | null>(null);
  const [problem, setProblem] = useState<CodedError | null>(null);
  const now = useNow(1000);
  const [{ data: sub, error: subError }] = useSubscription<JobProgressSubscription>(
    { query: JOB_PROGRESS, variables: { jobId } });

  const job = data?.job.__typename === "Job" ? data.job : null;
  useEffect(() => {
    if (job && stages.length === 0) {
      setStages(job.stages.map((s) => ({ stage: s.stage, state: s.state, progress: s.progress, message: s.message })));
    }
  }, [job, stages.length]);
  useEffect(() => {
    const event = sub?.jobProgress;
    if (!event) return;
    setStages((prev) => mergeStages(prev, event));
    setLive((prev) => (prev && event.kind !== "snapshot" && event.seq <= prev.seq ? prev
      : { state: event.kind === "job" || event.kind === "snapshot" ? event.state.toUpperCase() : prev?.state ?? "RUNNING",
          progress: event.kind === "job" || event.kind === "snapshot" ? event.progress : prev?.progress ?? 0, seq: event.seq }));
    if (event.kind === "job" || event.kind === "snapshot") refetch({ requestPolicy: "network-only" });
  }, [sub, refetch]);

  if (data?.job.__typename === "NotFoundError") return <ErrorNote error={{ code: "NOT_FOUND", message: "job not found" }} />;
  if (!job) return <p aria-busy="true">Loading…</p>;
  const state = live?.state ?? job.state;
  const progress = Math.max(live?.progress ?? 0, job.progress);
  const started = job.startedAt ? Date.parse(job.startedAt) : Date.parse(job.createdAt);
  const ended = job.finishedAt ? Date.parse(job.finishedAt) : now;
  const elapsed = (ended - started) / 1000;
  const eta = progress > 0.02 && !job.finishedAt ? (elapsed / progress) * (1 - progress) : NaN;

  async function act(kind: "cancel" | "retry") {
    const data = kind === "cancel"
      ? (await run<CancelJobMutation, CancelJobMutationVariables>(CANCEL_JOB, { jobId })).cancelJob
      : (await run<RetryJobMutation, RetryJobMutationVariables>(RETRY_JOB, { jobId })).retryJob;
    setProblem(asError(data));
    refetch({ requestPolicy: "network-only" });
  }

  return (
    <section aria-labelledby="job-title">
      <h1 id="job-title">Render progress</h1>
      <p><span data-testid="job-state" className={`state ${state.toLowerCase()}`}>{state.toLowerCase().replace("_", " ")}</span>
        {" "}· <progress max={1} value={progress} aria-label="Overall progress" /> {Math.round(progress * 100)}%
        {" "}· elapsed {seconds(elapsed)}{Number.isFinite(eta) ? ` · about ${seconds(eta)} left` : ""}</p>
      {subError && <p className="muted" role="status">Live updates interrupted; reconnecting…</p>}
      {job.errorCode && <ErrorNote error={{ code: job.errorCode, message: job.errorMessage ?? "" }} />}
      <ErrorNote error={problem} />
      <div className="row">
        {["QUEUED", "RUNNING", "WAITING_REVIEW"].includes(state) &&
          <button type="button" onClick={() => { void act("cancel"); }}>Cancel</button>}
        {["FAILED", "CANCELLED"].includes(state) &&
          <button type="button" onClick={() => { void act("retry"); }}>Retry</button>}
      </div>
      <table className="stages" aria-label="Stages">
        <thead><tr><th>Stage</th><th>State</th><th>Progress</th><th>Message</th></tr></thead>
        <tbody>{stages.map((s) => (
          <tr key={s.stage} data-testid={`stage-${s.stage.toLowerCase()}`}>
            <td>{s.stage.toLowerCase()}</td><td className={`state ${s.state.toLowerCase()}`}>{s.state.toLowerCase()}</td>
            <td><progress max={1} value={s.progress} aria-label={`${s.stage.toLowerCase()} progress`} /></td>
            <td>{s.message}</td></tr>))}
        </tbody>
      </table>
      {state === "WAITING_REVIEW" && <ReviewPanel jobId={jobId} onApproved={() => refetch({ requestPolicy: "network-only" })} />}
      {state === "SUCCEEDED" && <Outputs downloads={job.downloads} />}
    </section>
  );
}
