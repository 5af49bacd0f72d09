// "Export my data": ask for an export, poll `dataExport(id)` every few seconds until the zip is
// ready, then offer its expiring download link.
import { useEffect, useState } from "react";
import { run } from "../api/client";
import type { DataExportQuery, DataExportQueryVariables, RequestDataExportMutation,
  RequestDataExportMutationVariables } from "../api/generated";
import { DATA_EXPORT, REQUEST_DATA_EXPORT } from "../api/operations";
import { nextExport, shouldPoll, type ExportState } from "../lib/account";
import { bytes } from "../lib/format";
import { ErrorNote } from "./ErrorNote";

const POLL_MS = 3000;

function failure(e: unknown): ExportState {
  return { phase: "failed", error: { code: "UNAVAILABLE", message: e instanceof Error ? e.message : String(e) } };
}

export function DataExportPanel() {
  const [state, setState] = useState<ExportState>({ phase: "idle" });

  useEffect(() => {
    if (!shouldPoll(state)) return undefined;
    let stopped = false;
    const timer = setTimeout(() => {
      run<DataExportQuery, DataExportQueryVariables>(DATA_EXPORT, { id: state.id })
        .then((r) => { if (!stopped) setState(nextExport(r.dataExport)); })
        .catch((e: unknown) => { if (!stopped) setState(failure(e)); });
    }, POLL_MS);
    return () => { stopped = true; clearTimeout(timer); };
  }, [state]);

  async function request() {
    setState({ phase: "requesting" });
    try {
      const r = await run<RequestDataExportMutation, RequestDataExportMutationVariables>(REQUEST_DATA_EXPORT, {});
      setState(nextExport(r.requestDataExport));
    } catch (e) {
      setState(failure(e));
    }
  }

  const working = state.phase === "requesting" || state.phase === "waiting";
  return (
    <section aria-labelledby="export-title">
      <h2 id="export-title">Export my data</h2>
      <p className="muted">A zip of your account, memberships, the projects, renders and files you made, and the
        audit events about you. It is built in the background; the link expires after a few days.</p>
      <button type="button" onClick={() => { void request(); }} disabled={working}>
        {state.phase === "ready" || state.phase === "failed" ? "Export again" : "Export my data"}</button>
      <div aria-live="polite">
        {working && <p role="status">Preparing your export{state.phase === "waiting" ? ` (${state.state})` : ""}…</p>}
        {state.phase === "ready" && (
          <p role="status">Your export is ready: <a href={state.url} download data-testid="export-download">download
            the zip ({bytes(state.sizeBytes)})</a>
            {state.expiresAt && <> until {new Date(state.expiresAt).toLocaleString()}</>}.</p>)}
      </div>
      {state.phase === "failed" && <ErrorNote error={state.error} />}
    </section>
  );
}
