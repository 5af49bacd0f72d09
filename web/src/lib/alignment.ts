// The alignment contract (docs/alignment.md), as the console reads it. Fields added in later
// versions of the aligner (alternatives, needs_review) are optional.

export interface Clip { source: string; start: number; end: number; score?: number }
export interface Alternative { clips: Clip[]; score: number }
export interface Beat {
  index: number; text: string; target_duration: number; confidence: number; clips: Clip[];
  alternatives?: Alternative[]; needs_review?: boolean; chapter?: string | null;
}
export interface Alignment { version: number; sources: { id: string; path: string; duration: number }[]; beats: Beat[] }

export const LOW_CONFIDENCE = 0.5;

export function readAlignment(data: unknown): Alignment {
  const value = data as Partial<Alignment> | null;
  if (!value || !Array.isArray(value.beats) || !Array.isArray(value.sources)) {
    throw new Error("not an alignment (version 1 contract expected)");
  }
  return value as Alignment;
}

export function needsReview(beat: Beat): boolean {
  return beat.needs_review ?? beat.confidence < LOW_CONFIDENCE;
}

export function clipsSeconds(clips: Clip[]): number {
  return clips.reduce((sum, c) => sum + Math.max(0, c.end - c.start), 0);
}

/** Clamp a trimmed clip into its source and keep start < end (at least 0.1 s). */
export function trimClip(clip: Clip, start: number, end: number, duration: number): Clip {
  const s = Math.min(Math.max(0, start), Math.max(0, duration - 0.1));
  const e = Math.max(s + 0.1, Math.min(end, duration));
  return { source: clip.source, start: Math.round(s * 1000) / 1000, end: Math.round(e * 1000) / 1000 };
}

/** The beats whose clips differ from the original alignment, as `updateAlignment` wants them. */
export function editsOf(original: Alignment, edited: Record<number, Clip[]>): { index: number; clips: Clip[] }[] {
  return Object.entries(edited)
    .map(([index, clips]) => ({ index: Number(index), clips: clips.map(({ source, start, end }) => ({ source, start, end })) }))
    .filter(({ index, clips }) => {
      const before = original.beats.find((b) => b.index === index)?.clips ?? [];
      return JSON.stringify(before.map(({ source, start, end }) => ({ source, start, end }))) !== JSON.stringify(clips);
    });
}

/** The beat whose current clips share footage with ``clips`` (footage is never used twice), or null. */
export function overlapsOtherBeat(alignment: Alignment, edited: Record<number, Clip[]>, index: number,
                                  clips: Clip[]): number | null {
  for (const other of alignment.beats) {
    if (other.index === index) continue;
    for (const a of edited[other.index] ?? other.clips) {
      for (const b of clips) {
        if (a.source === b.source && a.start < b.end - 1e-3 && b.start < a.end - 1e-3) return other.index;
      }
    }
  }
  return null;
}
