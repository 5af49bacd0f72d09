// The tenant's audit trail for admins and owners: newest first, paged with "Load more" (Relay `after`),
// narrowed by an action prefix. Editors and viewers get PERMISSION_DENIED from the API: a short note.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { run } from "../api/client";
import type { CodedError } from "../api/errors";
import type { AuditEventsQuery, AuditEventsQueryVariables } from "../api/generated";
import { AUDIT_EVENTS } from "../api/operations";
import { AUDIT_ACTIONS, appendPage, auditRow, type AuditNode } from "../lib/account";
import { ErrorNote } from "./ErrorNote";

const PAGE = 25;

interface Props { names: ReadonlyMap<string, string>; me: string | null }

export function AuditLog({ names, me }: Props) {
  const [action, setAction] = useState("");
  const [events, setEvents] = useState<AuditNode[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [more, setMore] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<CodedError | string | null>(null);
  const [denied, setDenied] = useState(false);
  const latest = useRef(0);  // a page that arrives after a newer request (another filter) is dropped

  const load = useCallback(async (after: string | null, filterAction: string) => {
    const request = ++latest.current;
    setBusy(true);
    try {
      const r = await run<AuditEventsQuery, AuditEventsQueryVariables>(AUDIT_EVENTS, {
        first: PAGE, after, filter: filterAction ? { action: filterAction } : null });
      if (request !== latest.current) return;
      const result = r.auditEvents;
      if (result.__typename === "AuditEventConnection") {
        const page = result.edges.map((e) => e.node);
        setEvents((shown) => (after ? appendPage(shown, page) : page));
        setCursor(result.pageInfo.endCursor);
        setMore(result.pageInfo.hasNextPage);
        setProblem(null);
      } else if (result.code === "PERMISSION_DENIED") {
        setDenied(true);
      } else {
        setProblem({ code: result.code, message: result.message, field: result.field });
      }
    } catch (e) {
      if (request === latest.current) setProblem(e instanceof Error ? e.message : String(e));
    } finally {
      if (request === latest.current) setBusy(false);
    }
  }, []);

  useEffect(() => { void load(null, action); }, [load, action]);
  const rows = useMemo(() => events.map((e) => auditRow(e, names, me)), [events, names, me]);

  return (
    <section aria-labelledby="audit-title">
      <h2 id="audit-title">Audit log</h2>
      {denied ? <p className="muted">Only admins and owners can read this workspace&apos;s audit log.</p> : (<>
        <p className="muted">Security- and data-relevant actions in this workspace, newest first.</p>
        <label>Action <select value={action} onChange={(e) => setAction(e.target.value)}>
          <option value="">all actions</option>
          {AUDIT_ACTIONS.map((a) => <option key={a} value={a}>{a}*</option>)}</select></label>
        <ErrorNote error={problem} />
        <div className="scroll-x">
          <table aria-label="Audit events" aria-busy={busy}>
            <thead><tr><th>Time</th><th>Actor</th><th>Action</th><th>Target</th><th>IP</th></tr></thead>
            <tbody>{rows.map((r) => (
              <tr key={r.id}><td>{r.time}</td><td>{r.actor}</td><td><code>{r.action}</code></td><td>{r.target}</td><td>{r.ip}</td></tr>))}
            </tbody>
          </table>
        </div>
        {!busy && rows.length === 0 && !problem && <p className="muted">No events.</p>}
        {more && <button type="button" disabled={busy} onClick={() => { void load(cursor, action); }}>Load more</button>}
      </>)}
    </section>
  );
}
