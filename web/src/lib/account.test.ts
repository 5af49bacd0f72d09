import { describe, expect, it } from "vitest";
import { appendPage, auditRow, confirmed, nextExport, shouldPoll, type AuditNode, type ExportSnapshot } from "./account";

const event: AuditNode = { id: "e1", actorId: "u1", action: "render.started", targetType: "job", targetId: "j9",
  ip: "203.0.113.5", createdAt: "2026-12-04T10:00:00+00:00" };

describe("auditRow", () => {
  it("names the actor from the members, or you, or a dash when none is recorded", () => {
    const names = new Map([["u1", "Ann"]]);
    expect(auditRow(event, names, "u2")).toMatchObject({ actor: "Ann", action: "render.started", target: "job j9",
      ip: "203.0.113.5" });
    expect(auditRow(event, names, "u1").actor).toBe("you");
    expect(auditRow({ ...event, actorId: "gone" }, names, null).actor).toBe("gone");
    expect(auditRow({ ...event, actorId: null, ip: null }, names, null)).toMatchObject({ actor: "–", ip: "–" });
  });

  it("keeps an unparsable time as given and a target without id as its type", () => {
    const row = auditRow({ ...event, createdAt: "soon", targetId: "" }, new Map(), null);
    expect(row.time).toBe("soon");
    expect(row.target).toBe("job");
    expect(auditRow(event, new Map(), null, "en-GB").time).toMatch(/2026/);
  });
});

describe("appendPage", () => {
  it("adds a page and skips repeats", () => {
    expect(appendPage([{ id: "a" }, { id: "b" }], [{ id: "b" }, { id: "c" }]).map((e) => e.id)).toEqual(["a", "b", "c"]);
  });
});

describe("nextExport", () => {
  const snap: ExportSnapshot = { __typename: "DataExport", id: "x1", state: "queued", sizeBytes: 0, errorCode: null,
    expiresAt: null, downloadUrl: null };

  it("waits while queued or running", () => {
    for (const state of ["queued", "running"]) {
      const next = nextExport({ ...snap, state });
      expect(next).toEqual({ phase: "waiting", id: "x1", state });
      expect(shouldPoll(next)).toBe(true);
    }
  });

  it("is ready with a link", () => {
    const next = nextExport({ ...snap, state: "ready", sizeBytes: 1234, downloadUrl: "/downloads/t", expiresAt: "2026-12-11" });
    expect(next).toEqual({ phase: "ready", id: "x1", url: "/downloads/t", sizeBytes: 1234, expiresAt: "2026-12-11" });
    expect(shouldPoll(next)).toBe(false);
  });

  it("fails with the export's code, a missing link, or a typed error", () => {
    expect(nextExport({ ...snap, state: "failed", errorCode: "MEDIA_IO" })).toMatchObject({ phase: "failed",
      error: { code: "MEDIA_IO" } });
    expect(nextExport({ ...snap, state: "ready" })).toMatchObject({ phase: "failed", error: { code: "NOT_FOUND" } });
    const limited = nextExport({ __typename: "RateLimitedError", code: "RATE_LIMITED", message: "wait", field: null });
    expect(limited).toEqual({ phase: "failed", error: { code: "RATE_LIMITED", message: "wait", field: null } });
    expect(shouldPoll(limited)).toBe(false);
  });
});

describe("confirmed", () => {
  it("needs the exact text", () => {
    expect(confirmed(" DELETE ", "DELETE")).toBe(true);
    expect(confirmed("delete", "DELETE")).toBe(false);
    expect(confirmed("", "")).toBe(false);
    expect(confirmed("anns-recaps", "anns-recaps")).toBe(true);
  });
});
