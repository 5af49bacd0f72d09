import { describe, expect, it } from "vitest";
import { narrationSeconds, parseScript } from "./script";

describe("parseScript", () => {
  it("splits paragraphs into beats and # lines into chapters", () => {
    const chapters = parseScript("Intro beat.\n\n# The heist\nThey plan it.\nCarefully.\n\n\nIt fails.\n# End\nDone.");
    expect(chapters).toEqual([
      { title: "", beats: ["Intro beat."] },
      { title: "The heist", beats: ["They plan it. Carefully.", "It fails."] },
      { title: "End", beats: ["Done."] },
    ]);
  });

  it("ignores blank input and CRLF line ends", () => {
    expect(parseScript("\r\n\r\n")).toEqual([]);
    expect(parseScript("a\r\nb\r\n\r\nc")[0]!.beats).toEqual(["a b", "c"]);
  });

  it("estimates narration time from the word count", () => {
    expect(narrationSeconds("one two three four", 120)).toBeCloseTo(2);
  });
});
