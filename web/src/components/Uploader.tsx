// A resumable upload (tus 1.0 via tus-js-client): progress, speed, pause/resume, and a reload of
// the page resumes an unfinished upload of the same file (its URL is kept in localStorage).
import { useRef, useState } from "react";
import * as tus from "tus-js-client";
import { run } from "../api/client";
import { asError, describe } from "../api/errors";
import type { AssetKind, PrepareUploadMutation, PrepareUploadMutationVariables } from "../api/generated";
import { PREPARE_UPLOAD } from "../api/operations";
import { accessToken, refresh } from "../api/session";
import { bytes } from "../lib/format";

interface Props { projectId: string; kind: AssetKind; label: string; accept: string; onDone: () => void }

type Phase = "idle" | "uploading" | "paused" | "done" | "error";

function fingerprint(projectId: string, kind: string, file: File): string {
  return `recap-upload:${projectId}:${kind}:${file.name}:${file.size}:${file.lastModified}`;
}

export function Uploader({ projectId, kind, label, accept, onDone }: Props) {
  const upload = useRef<tus.Upload | null>(null);
  const [phase, setPhase] = useState<Phase>("idle");
  const [sent, setSent] = useState(0);
  const [total, setTotal] = useState(0);
  const [speed, setSpeed] = useState(0);
  const [note, setNote] = useState("");
  const last = useRef({ at: 0, bytes: 0 });

  async function start(file: File) {
    setNote("");
    const key = fingerprint(projectId, kind, file);
    const options: tus.UploadOptions = {
      chunkSize: 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      fingerprint: async () => key,
      onBeforeRequest: async (req) => {
        const token = accessToken() ?? (await refresh())?.accessToken;
        if (token) req.setHeader("Authorization", `Bearer ${token}`);
      },
      onProgress: (done, size) => {
        const now = performance.now();
        if (now - last.current.at > 500) {
          setSpeed(((done - last.current.bytes) / (now - last.current.at)) * 1000);
          last.current = { at: now, bytes: done };
        }
        setSent(done);
        setTotal(size);
      },
      onError: (error) => { setPhase("error"); setNote(`Upload failed: ${error.message}`); },
      onSuccess: () => { setPhase("done"); setNote("Uploaded; checking the file…"); onDone(); },
    };
    const probe = new tus.Upload(file, { ...options, endpoint: "/uploads/" });
    const previous = await probe.findPreviousUploads();
    let task: tus.Upload;
    if (previous.length > 0) {
      task = new tus.Upload(file, { ...options, endpoint: "/uploads/" });
      task.resumeFromPreviousUpload(previous[0]!);
      setNote("Resuming the unfinished upload of this file.");
    } else {
      const data = await run<PrepareUploadMutation, PrepareUploadMutationVariables>(PREPARE_UPLOAD, {
        input: { projectId, filename: file.name, kind, size: file.size } });
      const ticket = data.prepareUpload;
      if (ticket.__typename !== "UploadTicket") {
        const error = asError(ticket);
        setPhase("error");
        setNote(error ? describe(error) : "The upload was refused.");
        return;
      }
      const metadata = Object.fromEntries(ticket.metadata.map((m) => [m.key, m.value]));
      task = new tus.Upload(file, { ...options, endpoint: ticket.endpoint, metadata });
    }
    upload.current = task;
    last.current = { at: performance.now(), bytes: 0 };
    setPhase("uploading");
    task.start();
  }

  const pct = total ? Math.floor((sent / total) * 100) : 0;
  const id = `upload-${kind}`;
  return (
    <div className="uploader">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="file" accept={accept} disabled={phase === "uploading"}
             onChange={(e) => { const file = e.target.files?.[0]; if (file) void start(file); }} />
      {phase !== "idle" && (
        <div className="upload-status" role="status" aria-live="polite">
          <progress max={100} value={pct} aria-label={`${label} progress`} /> <span data-testid={`${id}-pct`}>{pct}%</span>
          {" "}{bytes(sent)} of {bytes(total)}{phase === "uploading" && speed > 0 ? ` · ${bytes(speed)}/s` : ""}
          {phase === "uploading" && (
            <button type="button" onClick={() => { void upload.current?.abort(); setPhase("paused"); }}>Pause</button>)}
          {phase === "paused" && (
            <button type="button" onClick={() => { upload.current?.start(); setPhase("uploading"); }}>Resume</button>)}
        </div>
      )}
      {note && <p className="note">{note}</p>}
    </div>
  );
}
