// Plays one source range from a signed, ranged URL: seeks to `start`, pauses at `end`.
import { useEffect, useRef } from "react";

interface Props { url: string; start: number; end: number; label: string; onTime?: (t: number) => void }

export function ClipPlayer({ url, start, end, label, onTime }: Props) {
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const v = video.current;
    if (!v) return;
    const toStart = () => { v.currentTime = start; };
    const guard = () => {
      onTime?.(v.currentTime);
      if (v.currentTime >= end) { v.pause(); v.currentTime = end; }
    };
    const rewind = () => { if (v.currentTime >= end - 0.05 || v.currentTime < start) v.currentTime = start; };
    if (v.readyState >= 1) toStart();
    v.addEventListener("loadedmetadata", toStart);
    v.addEventListener("timeupdate", guard);
    v.addEventListener("play", rewind);
    return () => {
      v.removeEventListener("loadedmetadata", toStart);
      v.removeEventListener("timeupdate", guard);
      v.removeEventListener("play", rewind);
    };
  }, [url, start, end, onTime]);
  return <video ref={video} src={`${url}#t=${start},${end}`} controls preload="metadata" aria-label={label}
                className="clip-player" data-testid="clip-player" />;
}
