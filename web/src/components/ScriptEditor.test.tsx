import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/react";
import { useState } from "react";
import { ScriptEditor } from "./ScriptEditor";

function Harness() {
  const [text, setText] = useState("");
  return <ScriptEditor value={text} onChange={setText} />;
}

describe("ScriptEditor", () => {
  it("previews beats and chapters as the creator types", () => {
    render(<Harness />);
    const box = screen.getByLabelText(/Script \(paragraphs are beats/);
    fireEvent.change(box, { target: { value: "# One\nFirst beat.\n\nSecond beat.\n# Two\nThird." } });
    expect(screen.getByText(/3 beats in 2 chapter/)).toBeTruthy();
    expect(screen.getByRole("heading", { name: "One" })).toBeTruthy();
    expect(screen.getAllByRole("listitem").map((li) => li.textContent)).toEqual(["First beat.", "Second beat.", "Third."]);
  });
});
