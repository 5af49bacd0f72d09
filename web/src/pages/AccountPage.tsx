import { useState } from "react";
import { useQuery } from "urql";
import { run } from "../api/client";
import { asError, type CodedError } from "../api/errors";
import type { ChangeRoleMutation, ChangeRoleMutationVariables, MeQuery, QuotaQuery, RemoveMemberMutation,
  RemoveMemberMutationVariables, Role, TenantQuery } from "../api/generated";
import { CHANGE_ROLE, ME, QUOTA, REMOVE_MEMBER, TENANT } from "../api/operations";
import { getSession } from "../api/session";
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
    </section>
  );
}

export function AccountPage() {
  const [{ data: me }] = useQuery<MeQuery>({ query: ME, variables: {} });
  const [{ data: quota }] = useQuery<QuotaQuery>({ query: QUOTA, variables: {} });
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
          <p className="muted">{q.isDefault ? "Your workspace is on the default plan." : "Your workspace has a custom plan."}</p>
        </section>)}
      <section aria-labelledby="workspaces-title">
        <h2 id="workspaces-title">Your workspaces</h2>
        <ul>{me?.me.memberships.map((m) => <li key={m.tenantId}>{m.tenantName} — {m.role.toLowerCase()}</li>)}</ul>
      </section>
      <Members />
    </section>
  );
}
