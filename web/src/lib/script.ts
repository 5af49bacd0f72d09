// The script rules of the API (media/script.py): paragraphs separated by blank lines are beats,
// a line starting with `#` is a chapter heading. Used for the live preview in the editor.

export interface Chapter { title: string; beats: string[] }

export function parseScript(text: string): Chapter[] {
  const chapters: Chapter[] = [{ title: "", beats: [] }];
  let paragraph: string[] = [];
  const flush = () => {
    const beat = paragraph.join(" ").replace(/\s+/g, " ").trim();
    if (beat) chapters[chapters.length - 1]!.beats.push(beat);
    paragraph = [];
  };
  for (const raw of text.replace(/\r\n?/g, "\n").split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#")) {
      flush();
      chapters.push({ title: line.replace(/^#+/, "").trim(), beats: [] });
    } else if (!line) {
      flush();
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return chapters.filter((c, i) => i > 0 || c.beats.length > 0);
}

/** Seconds a beat takes to narrate at `wpm` words per minute. */
export function narrationSeconds(beat: string, wpm = 160): number {
  const words = beat.split(/\s+/).filter(Boolean).length;
  return (words / wpm) * 60;
}
