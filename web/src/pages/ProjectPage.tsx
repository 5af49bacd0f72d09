import { useState } from "react";
import { useQuery } from "urql";
import type { ProjectQuery, ProjectQueryVariables } from "../api/generated";
import { PROJECT } from "../api/operations";
import { ErrorNote } from "../components/ErrorNote";
import { RenderForm } from "../components/RenderForm";
import { ScriptEditor } from "../components/ScriptEditor";
import { Uploader } from "../components/Uploader";
import { bytes } from "../lib/format";
import { navigate } from "../lib/router";

export function ProjectPage({ projectId }: { projectId: string }) {
  const [{ data, fetching }, refetch] = useQuery<ProjectQuery, ProjectQueryVariables>({
    query: PROJECT, variables: { id: projectId } });
  const [script, setScript] = useState("");
  const reload = () => refetch({ requestPolicy: "network-only" });
  if (fetching && !data) return <p aria-busy="true">Loading…</p>;
  const project = data?.project;
  if (!project || project.__typename !== "Project") {
    return <ErrorNote error={{ code: "NOT_FOUND", message: "project not found" }} />;
  }
  const ready = (kind: string) => project.assets.some((a) => a.kind === kind && a.status === "READY");
  return (
    <section aria-labelledby="project-title">
      <h1 id="project-title">{project.name}</h1>
      <div className="grid">
        <div>
          <h2>Files</h2>
          <Uploader projectId={projectId} kind="SOURCE_VIDEO" label="Source video" accept="video/*,.mkv" onDone={reload} />
          <Uploader projectId={projectId} kind="NARRATION_AUDIO" label="Recorded narration" accept="audio/*" onDone={reload} />
          <Uploader projectId={projectId} kind="SCRIPT" label="Script file" accept=".txt,.md,.srt,.vtt" onDone={reload} />
          <Uploader projectId={projectId} kind="INTRO" label="Intro clip" accept="video/*" onDone={reload} />
          <Uploader projectId={projectId} kind="OUTRO" label="Outro clip" accept="video/*" onDone={reload} />
          <button type="button" onClick={reload}>Refresh</button>
          <table className="assets" aria-label="Uploaded files">
            <thead><tr><th>File</th><th>Kind</th><th>Size</th><th>Status</th></tr></thead>
            <tbody>{project.assets.map((a) => (
              <tr key={a.id}><td>{a.filename}</td><td>{a.kind.toLowerCase().replace("_", " ")}</td>
                <td>{bytes(a.sizeBytes)}</td>
                <td data-testid="asset-status">{a.status.toLowerCase()}{a.errorCode ? ` (${a.errorCode})` : ""}</td></tr>))}
            </tbody>
          </table>
        </div>
        <div>
          <ScriptEditor value={script} onChange={setScript} />
          <RenderForm projectId={projectId} scriptText={script} hasNarration={ready("NARRATION_AUDIO")}
                      hasSource={ready("SOURCE_VIDEO")} />
        </div>
      </div>
      <h2>Renders</h2>
      <ul className="jobs">
        {project.jobs.nodes.map((j) => (
          <li key={j.id}>
            <a href={`/jobs/${j.id}`} onClick={(e) => { e.preventDefault(); navigate(`/jobs/${j.id}`); }}>
              {new Date(j.createdAt).toLocaleString()}</a> — {j.state.toLowerCase()} {Math.round(j.progress * 100)}%
            {j.errorCode ? ` (${j.errorCode})` : ""}
          </li>))}
      </ul>
    </section>
  );
}
