"""Split a video at keyframes by packet copy, and join upscaled segments back by packet copy.

A chunk starts at a keyframe once the previous one holds ``chunk_seconds``; its packets are copied
untouched, timestamps included, into NUT (a container that keeps any time base and timestamp exactly;
MP4 would round the start through its edit list). ``offset`` is the chunk's first presentation time:
segments start at zero and the join adds it back. Segments are joined in
order with the input's audio copied alongside, so no frame is lost or doubled at a join::

    chunks = split_keyframes(Path("in.mp4"), Path("work/inputs"), chunk_seconds=10)
    join_segments([Path("work/outputs/seg_0000.mp4"), ...], chunks, Path("in.mp4"), Path("out.mp4"))
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av


class ChunkError(RuntimeError):
    """A chunk or segment is unreadable, or does not hold the frames the manifest says."""


@dataclass(frozen=True)
class Chunk:
    index: int
    name: str          # the chunk's input file, ``chunk_0000.nut``
    offset: int        # the chunk's first pts (its keyframe's) in the input's time base
    time_base: str     # the input's video time base, "1/12288"
    frames: int
    start: float       # seconds in the input
    sha256: str

    @property
    def segment(self) -> str:
        return f"seg_{self.index:04d}.mp4"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chunk:
        return cls(**{k: data[k] for k in ("index", "name", "offset", "time_base", "frames", "start", "sha256")})


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _video_packets(path: Path) -> Iterator[Any]:
    with av.open(str(path)) as cont:
        for packet in cont.demux(cont.streams.video[0]):
            if packet.size and packet.dts is not None:
                yield packet


class _ChunkWriter:
    def __init__(self, folder: Path, template: Any, index: int, first: Any) -> None:
        self.name = f"chunk_{index:04d}.nut"
        self.path = folder / self.name
        self.tmp = folder / f".{self.name}.part"
        self.out = av.open(str(self.tmp), "w", format="nut")
        self.stream = self.out.add_stream_from_template(template)
        self.stream.time_base = template.time_base
        self.offset, self.index, self.frames = int(first.pts if first.pts is not None else first.dts), index, 0
        self.first_dts = int(first.dts)
        self.start = float(first.pts * first.time_base) if first.pts is not None else 0.0

    def write(self, packet: Any) -> None:
        packet.stream = self.stream
        self.out.mux(packet)
        self.frames += 1

    def close(self, time_base: Fraction) -> Chunk:
        self.out.close()
        self.tmp.replace(self.path)
        return Chunk(self.index, self.name, self.offset, str(time_base), self.frames, self.start,
                     sha256_file(self.path))


def split_keyframes(src: Path, folder: Path, chunk_seconds: float) -> list[Chunk]:
    """Cut ``src``'s video into keyframe-aligned chunks of at least ``chunk_seconds`` (the last may be shorter)."""
    if chunk_seconds <= 0:
        raise ValueError("chunk_seconds must be > 0")
    folder.mkdir(parents=True, exist_ok=True)
    chunks: list[Chunk] = []
    with av.open(str(src)) as cont:
        stream = cont.streams.video[0]
        tb = Fraction(stream.time_base or Fraction(1, 90000))
        writer: _ChunkWriter | None = None
        for packet in cont.demux(stream):
            if not packet.size or packet.dts is None:
                continue
            due = writer is None or (packet.is_keyframe and
                                     float((packet.dts - writer.first_dts) * tb) >= chunk_seconds - 1e-6)
            if due:
                if writer is not None:
                    chunks.append(writer.close(tb))
                writer = _ChunkWriter(folder, stream, len(chunks), packet)
            assert writer is not None
            writer.write(packet)
        if writer is not None:
            chunks.append(writer.close(tb))
    if not chunks:
        raise ChunkError(f"{src.name} has no video packets")
    return chunks


def count_frames(path: Path) -> int:
    """Decoded video frames in ``path`` (a corrupt file raises ChunkError)."""
    try:
        with av.open(str(path)) as cont:
            stream = cont.streams.video[0]
            stream.thread_type = "AUTO"
            return sum(1 for _ in cont.decode(stream))
    except (av.FFmpegError, IndexError) as ex:
        raise ChunkError(f"cannot read {path.name}: {ex}") from ex


def join_segments(segments: list[Path], chunks: list[Chunk], src: Path, dest: Path, *, audio: bool = True) -> int:
    """Concatenate ``segments`` (packet copy), timestamps moved back by each chunk's offset, plus ``src``'s audio."""
    if len(segments) != len(chunks) or not segments:
        raise ChunkError("one segment per chunk is needed")
    tmp = dest.with_name(f".{dest.name}.part")
    count = 0
    with av.open(str(segments[0])) as first, av.open(str(tmp), "w", format="mp4") as out:
        vs = out.add_stream_from_template(first.streams.video[0])
        vs.time_base = Fraction(chunks[0].time_base)
        audio_in = av.open(str(src)) if audio else None
        try:
            streams = {s.index: out.add_stream_from_template(s) for s in (audio_in.streams.audio if audio_in else [])}
            audio_iter = audio_in.demux(*audio_in.streams.audio) if audio_in and streams else iter(())
            pending = next(audio_iter, None)
            for seg, chunk in zip(segments, chunks, strict=True):
                in_tb = Fraction(chunk.time_base)
                for packet in _video_packets(seg):
                    shift = round(chunk.offset * in_tb / packet.time_base)
                    packet.pts = None if packet.pts is None else packet.pts + shift
                    packet.dts += shift
                    t = float(packet.dts * packet.time_base)
                    while pending is not None and (pending.dts is None or float(pending.dts * pending.time_base) <= t):
                        if pending.dts is not None:
                            pending.stream = streams[pending.stream_index]
                            out.mux(pending)
                        pending = next(audio_iter, None)
                    packet.stream = vs
                    out.mux(packet)
                    count += 1
            while pending is not None:
                if pending.dts is not None:
                    pending.stream = streams[pending.stream_index]
                    out.mux(pending)
                pending = next(audio_iter, None)
        finally:
            if audio_in is not None:
                audio_in.close()
    tmp.replace(dest)
    return count
