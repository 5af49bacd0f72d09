// The finished recap: the video with its captions track and chapters, the thumbnail, every side file.
import { useEffect, useState } from "react";
import { bytes } from "../lib/format";

interface Download { name: string; size: number; url: string }

function parseChapters(text: string): { at: number; title: string }[] {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).flatMap((line) => {
    const m = /^(\d+):(\d{2})(?::(\d{2}))?\s+(.*)$/.exec(line);
    if (!m) return [];
    const [h, mi, s] = m[3] !== undefined ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, Number(m[1]), Number(m[2])];
    return [{ at: h * 3600 + mi * 60 + s, title: m[4] ?? "" }];
  });
}

export function Outputs({ downloads }: { downloads: Download[] }) {
  const find = (name: string) => downloads.find((d) => d.name === name);
  const video = find("final.mp4");
  const vtt = find("captions.vtt");
  const chaptersFile = find("chapters.txt");
  const thumb = find("thumbnail.jpg");
  const [chapters, setChapters] = useState<{ at: number; title: string }[]>([]);
  const [player, setPlayer] = useState<HTMLVideoElement | null>(null);
  useEffect(() => {
    if (!chaptersFile) return;
    void fetch(chaptersFile.url).then((r) => r.text()).then((t) => setChapters(parseChapters(t))).catch(() => setChapters([]));
  }, [chaptersFile]);
  return (
    <section aria-labelledby="outputs-title" className="outputs">
      <h2 id="outputs-title">Your recap</h2>
      {video && (
        <video ref={setPlayer} controls preload="metadata" src={video.url} poster={thumb?.url} data-testid="final-video"
               aria-label="The finished recap">
          {vtt && <track kind="captions" src={vtt.url} srcLang="en" label="English" default />}
        </video>)}
      {chapters.length > 0 && (
        <ol className="chapters" aria-label="Chapters">
          {chapters.map((c) => (
            <li key={c.at}><button type="button" onClick={() => { if (player) { player.currentTime = c.at; void player.play(); } }}>
              {c.title}</button></li>))}
        </ol>)}
      {thumb && <img src={thumb.url} alt="Thumbnail of the recap" className="thumbnail" />}
      <h3>Downloads</h3>
      <ul className="downloads">
        {downloads.map((d) => (
          <li key={d.name}><a href={d.url} download={d.name} data-testid={`download-${d.name}`}>{d.name}</a> ({bytes(d.size)})</li>))}
      </ul>
    </section>
  );
}
