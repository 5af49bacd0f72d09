// The audit log's paging and the export's polling, with the network call (`run`) answered in the test.
import { afterEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";

const answers: unknown[] = [];
const calls: { query: string; variables: unknown }[] = [];
vi.mock("../api/client", () => ({
  run: (query: string, variables: unknown) => {
    calls.push({ query, variables });
    const next = answers.shift();
    return next ? Promise.resolve(next) : Promise.reject(new Error("no answer"));
  },
}));
const { AuditLog } = await import("./AuditLog");
const { DataExportPanel } = await import("./DataExportPanel");

function page(ids: string[], endCursor: string, hasNextPage: boolean) {
  return { auditEvents: { __typename: "AuditEventConnection", pageInfo: { hasNextPage, endCursor },
    edges: ids.map((id) => ({ cursor: id, node: { id, actorId: "u1", action: "render.started", targetType: "job",
      targetId: id, ip: null, createdAt: "2026-12-04T10:00:00+00:00" } })) } };
}

describe("AuditLog", () => {
  afterEach(() => { cleanup(); calls.length = 0; answers.length = 0; });

  it("loads more with the last cursor and filters by action", async () => {
    answers.push(page(["a", "b"], "c1", true), page(["c"], "c2", false), page(["d"], "c3", false));
    render(<AuditLog names={new Map([["u1", "Ann"]])} me={null} />);
    await screen.findByText("job b");
    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    await screen.findByText("job c");
    expect(calls[1]?.variables).toEqual({ first: 25, after: "c1", filter: null });
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
    expect(screen.getAllByText("Ann")).toHaveLength(3);
    fireEvent.change(screen.getByLabelText("Action"), { target: { value: "render." } });
    await screen.findByText("job d");
    expect(calls[2]?.variables).toEqual({ first: 25, after: null, filter: { action: "render." } });
    expect(screen.queryByText("job a")).toBeNull();
  });

  it("shows a note when the role may not read it", async () => {
    answers.push({ auditEvents: { __typename: "PermissionDeniedError", code: "PERMISSION_DENIED", message: "no", field: null } });
    render(<AuditLog names={new Map()} me={null} />);
    await screen.findByText(/Only admins and owners/);
    expect(screen.queryByRole("table")).toBeNull();
  });
});

describe("DataExportPanel", () => {
  afterEach(() => { cleanup(); vi.useRealTimers(); calls.length = 0; answers.length = 0; });
  const snap = { __typename: "DataExport", id: "x1", sizeBytes: 0, errorCode: null, expiresAt: null, downloadUrl: null };

  it("polls until the export is ready, then links it", async () => {
    vi.useFakeTimers();
    answers.push({ requestDataExport: { ...snap, state: "queued" } }, { dataExport: { ...snap, state: "running" } },
                 { dataExport: { ...snap, state: "ready", sizeBytes: 2000, downloadUrl: "/downloads/zip" } });
    render(<DataExportPanel />);
    await act(async () => { fireEvent.click(screen.getByRole("button", { name: "Export my data" })); });
    expect(screen.getByRole("status").textContent).toMatch(/queued/);
    await act(async () => { await vi.advanceTimersByTimeAsync(3000); });
    expect(screen.getByRole("status").textContent).toMatch(/running/);
    await act(async () => { await vi.advanceTimersByTimeAsync(3000); });
    expect(screen.getByTestId("export-download").getAttribute("href")).toBe("/downloads/zip");
    expect(calls.map((c) => c.variables)).toEqual([{}, { id: "x1" }, { id: "x1" }]);
    await act(async () => { await vi.advanceTimersByTimeAsync(10_000); });
    expect(calls).toHaveLength(3);
  });

  it("says a refusal in words", async () => {
    answers.push({ requestDataExport: { __typename: "RateLimitedError", code: "RATE_LIMITED", message: "wait", field: null } });
    render(<DataExportPanel />);
    fireEvent.click(screen.getByRole("button", { name: "Export my data" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toMatch(/Too many attempts/));
  });
});
