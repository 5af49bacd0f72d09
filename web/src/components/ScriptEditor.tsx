import { parseScript, narrationSeconds } from "../lib/script";
import { seconds } from "../lib/format";

export function ScriptEditor({ value, onChange }: { value: string; onChange: (text: string) => void }) {
  const chapters = parseScript(value);
  const beats = chapters.reduce((n, c) => n + c.beats.length, 0);
  const total = chapters.flatMap((c) => c.beats).reduce((s, b) => s + narrationSeconds(b), 0);
  return (
    <div className="script-editor">
      <label htmlFor="script-text">Script (paragraphs are beats; lines starting with # are chapters)</label>
      <textarea id="script-text" rows={12} value={value} onChange={(e) => onChange(e.target.value)}
                placeholder={"# Act one\nOur hero wakes up in a strange city.\n\nShe meets the stranger at the station."} />
      <div className="preview" aria-label="Script preview">
        <p className="muted">{beats} beats in {chapters.length} chapter(s), about {seconds(total)} of narration</p>
        {chapters.map((c, ci) => (
          <div key={ci}>
            {c.title && <h4>{c.title}</h4>}
            <ol>{c.beats.map((b, bi) => <li key={bi}>{b}</li>)}</ol>
          </div>
        ))}
      </div>
    </div>
  );
}
