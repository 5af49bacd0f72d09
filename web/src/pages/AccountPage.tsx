import { useMemo, useState } from "react";
import { useQuery } from "urql";
import { run } from "../api/client";
import { asError, type CodedError } from "../api/errors";
import type { AcceptInvitationMutation, AcceptInvitationMutationVariables, ChangeRoleMutation,
  ChangeRoleMutationVariables, InviteMemberMutation, InviteMemberMutationVariables, MeQuery, QuotaQuery,
  RemoveMemberMutation, RemoveMemberMutationVariables, RevokeInvitationMutation, RevokeInvitationMutationVariables,
  Role, TenantQuery } from "../api/generated";
import { ACCEPT_INVITATION, CHANGE_ROLE, INVITE_MEMBER, ME, QUOTA, REMOVE_MEMBER, REVOKE_INVITATION,
  TENANT } from "../api/operations";
import { getSession } from "../api/session";
import { AuditLog } from "../components/AuditLog";
import { DangerZone } from "../components/DangerZone";
import { DataExportPanel } from "../components/DataExportPanel";
import { ErrorNote } from "../components/ErrorNote";
import { bytes } from "../lib/format";

const ROLES: Role[] = ["OWNER", "ADMIN", "EDITOR", "VIEWER"];

function Members() {
  const [{ data }, refetch] = useQuery<TenantQuery>({ query: TENANT, variables: {} });
  const [problem, setProblem] = useState<CodedError | null>(null);
  const tenant = data?.tenant.__typename === "Tenant" ? data.tenant : null;
  if (!tenant) return null;  // members are for admins; the API says PERMISSION_DENIED to others
  const me = getSession()?.user.id;

  async function change(userId: string, role: Role) {
    const r = await run<ChangeRoleMutation, ChangeRoleMutationVariables>(CHANGE_ROLE, { userId, role });
    setProblem(asError(r.changeRole));
    refetch({ requestPolicy: "network-only" });
  }
  async function invite(form: HTMLFormElement) {
    const data = new FormData(form);
    const r = await run<InviteMemberMutation, InviteMemberMutationVariables>(INVITE_MEMBER, {
      email: String(data.get("email") ?? ""), role: String(data.get("role") ?? "VIEWER") as Role });
    setProblem(asError(r.addMember));
    if (r.addMember.__typename === "InvitationPayload") form.reset();
    refetch({ requestPolicy: "network-only" });
  }
  async function revoke(invitationId: string) {
    const r = await run<RevokeInvitationMutation, RevokeInvitationMutationVariables>(REVOKE_INVITATION, { invitationId });
    setProblem(asError(r.revokeInvitation));
    refetch({ requestPolicy: "network-only" });
  }
  async function remove(userId: string, email: string) {
    if (!window.confirm(`Remove ${email} from ${tenant?.name}?`)) return;
    const r = await run<RemoveMemberMutation, RemoveMemberMutationVariables>(REMOVE_MEMBER, { userId });
    setProblem(asError(r.removeMember));
    refetch({ requestPolicy: "network-only" });
  }

  return (
    <section aria-labelledby="members-title">
      <h2 id="members-title">Members of {tenant.name}</h2>
      <ErrorNote error={problem} />
      <table aria-label="Members">
        <thead><tr><th>Name</th><th>Email</th><th>Role</th><th /></tr></thead>
        <tbody>{tenant.members.map((m) => (
          <tr key={m.userId}><td>{m.displayName}</td><td>{m.email}</td>
            <td><select aria-label={`Role of ${m.email}`} value={m.role} disabled={m.userId === me}
                        onChange={(e) => { void change(m.userId, e.target.value as Role); }}>
              {ROLES.map((r) => <option key={r} value={r}>{r.toLowerCase()}</option>)}</select></td>
            <td>{m.userId !== me && <button type="button" onClick={() => { void remove(m.userId, m.email); }}>Remove</button>}</td>
          </tr>))}
        </tbody>
      </table>
      <h3>Invite someone</h3>
      <p className="muted">They get a message with a token and join only when they accept it.</p>
      <form aria-label="Invite" onSubmit={(e) => { e.preventDefault(); void invite(e.currentTarget); }}>
        <label>Email <input name="email" type="email" required autoComplete="off" /></label>
        <label>Role <select name="role" defaultValue="VIEWER">
          {ROLES.map((r) => <option key={r} value={r}>{r.toLowerCase()}</option>)}</select></label>
        <button type="submit">Send invitation</button>
      </form>
      {tenant.invitations.length > 0 && (
        <table aria-label="Pending invitations">
          <thead><tr><th>Email</th><th>Role</th><th>Expires</th><th /></tr></thead>
          <tbody>{tenant.invitations.map((i) => (
            <tr key={i.id}><td>{i.email}</td><td>{i.role.toLowerCase()}</td><td>{new Date(i.expiresAt).toLocaleDateString()}</td>
              <td><button type="button" onClick={() => { void revoke(i.id); }}>Withdraw</button></td></tr>))}
          </tbody>
        </table>)}
    </section>
  );
}

function JoinWorkspace() {
  const [problem, setProblem] = useState<CodedError | null>(null);
  const [joined, setJoined] = useState<string | null>(null);
  async function accept(form: HTMLFormElement) {
    const token = String(new FormData(form).get("token") ?? "").trim();
    const r = await run<AcceptInvitationMutation, AcceptInvitationMutationVariables>(ACCEPT_INVITATION, { token });
    setProblem(asError(r.acceptInvitation));
    if (r.acceptInvitation.__typename === "InvitationAccepted") {
      setJoined(`You joined ${r.acceptInvitation.tenantName} as ${r.acceptInvitation.role.toLowerCase()}.`);
      form.reset();
    }
  }
  return (
    <section aria-labelledby="join-title">
      <h2 id="join-title">Join a workspace</h2>
      <ErrorNote error={problem} />
      {joined && <p role="status">{joined} Pick it in the workspace menu.</p>}
      <form aria-label="Accept invitation" onSubmit={(e) => { e.preventDefault(); void accept(e.currentTarget); }}>
        <label>Invitation token <input name="token" required autoComplete="off" /></label>
        <button type="submit">Accept</button>
      </form>
    </section>
  );
}

export function AccountPage() {
  const [{ data: me }] = useQuery<MeQuery>({ query: ME, variables: {} });
  const [{ data: quota }] = useQuery<QuotaQuery>({ query: QUOTA, variables: {} });
  // Members (and so the actors' names and the slug) are for admins; others get PERMISSION_DENIED.
  const [{ data: tenantData }] = useQuery<TenantQuery>({ query: TENANT, variables: {} });
  const tenant = tenantData?.tenant.__typename === "Tenant" ? tenantData.tenant : null;
  const names = useMemo(() => new Map((tenant?.members ?? []).map((m) => [m.userId, m.displayName || m.email])),
                        [tenant]);
  const role = me?.me.role;
  const q = quota?.quota;
  return (
    <section aria-labelledby="account-title">
      <h1 id="account-title">Account</h1>
      {me && <p>{me.me.user.displayName} · {me.me.user.email} · {me.me.role.toLowerCase()} in this workspace</p>}
      {q && (
        <section aria-labelledby="quota-title">
          <h2 id="quota-title">Plan and usage ({q.period})</h2>
          <dl className="quota">
            <dt>Renders at once</dt><dd>{q.usage.concurrentJobs} of {q.limits.concurrentJobs}</dd>
            <dt>Processing minutes</dt><dd>{q.usage.processingMinutes.toFixed(1)} of {q.limits.processingMinutesPerMonth}</dd>
            <dt>Storage</dt><dd>{bytes(q.usage.storageBytes)} of {bytes(q.limits.storageBytes)}</dd>
          </dl>
          <p className="muted">Plan: {q.plan}{q.isDefault ? "" : " (limits set by the platform)"}. Plans and limits are
            changed by the platform&apos;s administrators.</p>
        </section>)}
      <section aria-labelledby="workspaces-title">
        <h2 id="workspaces-title">Your workspaces</h2>
        <ul>{me?.me.memberships.map((m) => <li key={m.tenantId}>{m.tenantName} — {m.role.toLowerCase()}</li>)}</ul>
      </section>
      <Members />
      <JoinWorkspace />
      {(role === "OWNER" || role === "ADMIN") && <AuditLog names={names} me={me?.me.user.id ?? null} />}
      <DataExportPanel />
      <DangerZone workspace={role === "OWNER" && tenant ? { name: tenant.name, slug: tenant.slug } : null} />
    </section>
  );
}
