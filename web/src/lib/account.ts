// Pure helpers of the Account page: audit rows in words, the data-export polling state machine
// and the typed confirmations of the danger zone.
import type { CodedError } from "../api/errors";

/** Action prefixes the audit filter offers (the API takes an exact action or a prefix ending in "."). */
export const AUDIT_ACTIONS = ["user.", "tenant.", "member.", "invitation.", "project.", "render.", "download.",
  "quota.", "data.", "account."] as const;

export interface AuditNode {
  id: string;
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  ip: string | null;
  createdAt: string;
}

export interface AuditRow { id: string; time: string; actor: string; action: string; target: string; ip: string }

/** One audit event as table cells; `names` maps user ids to a display name, `me` is the viewer's id. */
export function auditRow(event: AuditNode, names: ReadonlyMap<string, string>, me: string | null,
                         locale?: string): AuditRow {
  let actor = "–";  // none recorded: the operator, an erased user, or a signed link
  if (event.actorId) actor = event.actorId === me ? "you" : names.get(event.actorId) ?? event.actorId;
  const when = new Date(event.createdAt);
  const time = Number.isNaN(when.getTime()) ? event.createdAt : when.toLocaleString(locale);
  const target = event.targetId ? `${event.targetType} ${event.targetId}` : event.targetType;
  return { id: event.id, time, actor, action: event.action, target, ip: event.ip ?? "–" };
}

/** Appends a page, skipping events already shown (a page boundary may repeat one). */
export function appendPage<T extends { id: string }>(shown: readonly T[], page: readonly T[]): T[] {
  const seen = new Set(shown.map((e) => e.id));
  return [...shown, ...page.filter((e) => !seen.has(e.id))];
}

export interface ExportSnapshot {
  __typename: "DataExport";
  id: string;
  state: string;
  sizeBytes: number;
  errorCode: string | null;
  expiresAt: string | null;
  downloadUrl: string | null;
}

export type ExportState =
  | { phase: "idle" }
  | { phase: "requesting" }
  | { phase: "waiting"; id: string; state: string }
  | { phase: "ready"; id: string; url: string; sizeBytes: number; expiresAt: string | null }
  | { phase: "failed"; error: CodedError };

export type ExportAnswer = ExportSnapshot | ({ __typename: string } & CodedError);

/** The export's next state from an answer of `requestDataExport` or `dataExport(id)`. */
export function nextExport(answer: ExportAnswer): ExportState {
  if (answer.__typename !== "DataExport") {
    const e = answer as CodedError;
    return { phase: "failed", error: { code: e.code, message: e.message, field: e.field ?? null } };
  }
  const snap = answer as ExportSnapshot;
  if (snap.state === "ready") {
    if (snap.downloadUrl) {
      return { phase: "ready", id: snap.id, url: snap.downloadUrl, sizeBytes: snap.sizeBytes, expiresAt: snap.expiresAt };
    }
    return { phase: "failed", error: { code: "NOT_FOUND", message: "the export's link has expired; ask again" } };
  }
  if (snap.state === "failed") {
    return { phase: "failed", error: { code: snap.errorCode ?? "UNAVAILABLE", message: "the export could not be built" } };
  }
  return { phase: "waiting", id: snap.id, state: snap.state };
}

/** Whether the export should be polled again. */
export function shouldPoll(state: ExportState): state is { phase: "waiting"; id: string; state: string } {
  return state.phase === "waiting";
}

/** The word the account deletion asks to be typed. */
export const DELETE_WORD = "DELETE";

/** A typed confirmation matches when it equals the expected text (surrounding spaces ignored). */
export function confirmed(typed: string, expected: string): boolean {
  return expected.length > 0 && typed.trim() === expected;
}
