import { describe, expect, it } from "vitest";
import { editsOf, needsReview, overlapsOtherBeat, readAlignment, trimClip, type Alignment } from "./alignment";

const base: Alignment = {
  version: 1,
  sources: [{ id: "s0", path: "movie.mp4", duration: 100 }],
  beats: [
    { index: 0, text: "a", target_duration: 4, confidence: 0.9, clips: [{ source: "s0", start: 1, end: 5, score: 0.8 }] },
    { index: 1, text: "b", target_duration: 4, confidence: 0.3, clips: [{ source: "s0", start: 10, end: 14 }] },
  ],
};

describe("alignment helpers", () => {
  it("flags low confidence unless the aligner says otherwise", () => {
    expect(needsReview(base.beats[0]!)).toBe(false);
    expect(needsReview(base.beats[1]!)).toBe(true);
    expect(needsReview({ ...base.beats[0]!, needs_review: true })).toBe(true);
  });
  it("keeps trimmed clips inside the source", () => {
    expect(trimClip(base.beats[0]!.clips[0]!, -3, 200, 100)).toEqual({ source: "s0", start: 0, end: 100 });
    expect(trimClip(base.beats[0]!.clips[0]!, 50, 40, 100)).toEqual({ source: "s0", start: 50, end: 50.1 });
  });
  it("sends only changed beats, without scores", () => {
    const edits = editsOf(base, { 0: [{ source: "s0", start: 1, end: 5, score: 0.8 }], 1: [{ source: "s0", start: 20, end: 24 }] });
    expect(edits).toEqual([{ index: 1, clips: [{ source: "s0", start: 20, end: 24 }] }]);
  });
  it("tells which other beat already uses an alternative's footage", () => {
    expect(overlapsOtherBeat(base, {}, 0, [{ source: "s0", start: 12, end: 16 }])).toBe(1);
    expect(overlapsOtherBeat(base, {}, 0, [{ source: "s0", start: 14, end: 18 }])).toBeNull(); // touching is fine
    expect(overlapsOtherBeat(base, { 1: [{ source: "s0", start: 30, end: 34 }] }, 0,
                             [{ source: "s0", start: 12, end: 16 }])).toBeNull(); // beat 1 was moved away
  });
  it("refuses what is not an alignment", () => {
    expect(() => readAlignment({ beats: 3 })).toThrow();
  });
});
