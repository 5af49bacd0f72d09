import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { DangerZone } from "./DangerZone";

describe("DangerZone", () => {
  afterEach(cleanup);

  it("enables deletion only after the password and the typed confirmation", () => {
    render(<DangerZone workspace={{ name: "Ann's Recaps", slug: "anns-recaps" }} />);
    const account = screen.getByRole("button", { name: "Delete my account" }) as HTMLButtonElement;
    const workspace = screen.getByRole("button", { name: "Delete workspace" }) as HTMLButtonElement;
    expect(account.disabled).toBe(true);
    expect(workspace.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Your password"), { target: { value: "secret" } });
    fireEvent.change(screen.getByLabelText("Type DELETE to confirm"), { target: { value: "delete" } });
    expect(account.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Type DELETE to confirm"), { target: { value: "DELETE" } });
    expect(account.disabled).toBe(false);
    fireEvent.change(screen.getByLabelText(/Type the workspace slug/), { target: { value: "anns-recaps" } });
    expect(workspace.disabled).toBe(false);
  });

  it("offers workspace deletion to owners only", () => {
    render(<DangerZone workspace={null} />);
    expect(screen.queryByRole("button", { name: "Delete workspace" })).toBeNull();
  });
});
