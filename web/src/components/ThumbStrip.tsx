// A strip of thumbnails around a clip, drawn from the (same-origin) signed source link:
// click sets the clip's in point, shift-click (or the second button) its out point.
import { useEffect, useState } from "react";
import { timecode } from "../lib/format";

interface Props { url: string; from: number; to: number; count?: number;
                  onIn: (t: number) => void; onOut: (t: number) => void }

async function grab(url: string, times: number[]): Promise<string[]> {
  const video = document.createElement("video");
  video.muted = true;
  video.preload = "auto";
  video.src = url;
  await new Promise<void>((resolve, reject) => {
    video.addEventListener("loadeddata", () => resolve(), { once: true });
    video.addEventListener("error", () => reject(new Error("cannot load the source")), { once: true });
  });
  const canvas = document.createElement("canvas");
  canvas.width = 96;
  canvas.height = Math.max(1, Math.round((96 * video.videoHeight) / Math.max(1, video.videoWidth)));
  const ctx = canvas.getContext("2d");
  const out: string[] = [];
  for (const t of times) {
    video.currentTime = t;
    await new Promise<void>((resolve) => video.addEventListener("seeked", () => resolve(), { once: true }));
    ctx?.drawImage(video, 0, 0, canvas.width, canvas.height);
    out.push(canvas.toDataURL("image/jpeg", 0.6));
  }
  video.removeAttribute("src");
  video.load();
  return out;
}

export function ThumbStrip({ url, from, to, count = 8, onIn, onOut }: Props) {
  const [thumbs, setThumbs] = useState<string[]>([]);
  const times = Array.from({ length: count }, (_, i) => from + ((to - from) * i) / Math.max(1, count - 1));
  const key = times.map((t) => t.toFixed(2)).join(",");
  useEffect(() => {
    let alive = true;
    grab(url, key.split(",").map(Number)).then((list) => { if (alive) setThumbs(list); }).catch(() => setThumbs([]));
    return () => { alive = false; };
  }, [url, key]);
  return (
    <ol className="thumbs" aria-label="Trim strip: choose a frame to set the in point, shift for the out point">
      {times.map((t, i) => (
        <li key={i}>
          <button type="button" aria-label={`Set in point at ${timecode(t)}`}
                  onClick={(e) => (e.shiftKey ? onOut(t) : onIn(t))}>
            {thumbs[i] ? <img src={thumbs[i]} alt="" width={96} /> : <span className="thumb-empty" />}
            <span>{timecode(t)}</span>
          </button>
          <button type="button" className="small" aria-label={`Set out point at ${timecode(t)}`} onClick={() => onOut(t)}>out</button>
        </li>))}
    </ol>
  );
}
