// Irreversible actions: delete my account (password + typed word) and, for owners, delete the
// workspace (typed slug). Both sign out to the sign-in page when done.
import { useState } from "react";
import { run } from "../api/client";
import { asError, type CodedError } from "../api/errors";
import type { DeleteAccountMutation, DeleteAccountMutationVariables, DeleteTenantMutation,
  DeleteTenantMutationVariables } from "../api/generated";
import { DELETE_ACCOUNT, DELETE_TENANT } from "../api/operations";
import { logout } from "../api/session";
import { confirmed, DELETE_WORD } from "../lib/account";
import { navigate } from "../lib/router";
import { ErrorNote } from "./ErrorNote";

async function signOut() {
  await logout().catch(() => undefined);
  navigate("/", true);
}

function DeleteAccount() {
  const [password, setPassword] = useState("");
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<CodedError | string | null>(null);
  async function submit() {
    setBusy(true);
    try {
      const r = await run<DeleteAccountMutation, DeleteAccountMutationVariables>(DELETE_ACCOUNT, { password });
      const error = asError(r.deleteAccount);
      setProblem(error);
      if (!error) { await signOut(); return; }
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    }
    setBusy(false);
  }
  return (
    <form aria-labelledby="delete-account-title" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <h3 id="delete-account-title">Delete my account</h3>
      <p>Erases your account, and every workspace where you are the only member, with their files. This cannot be
        undone. If you are the last owner of a workspace others use, make someone else owner first.</p>
      <ErrorNote error={problem} />
      <label>Your password <input type="password" autoComplete="current-password" required value={password}
                                  onChange={(e) => setPassword(e.target.value)} /></label>
      <label>Type {DELETE_WORD} to confirm <input autoComplete="off" value={typed}
                                                  onChange={(e) => setTyped(e.target.value)} /></label>
      <button type="submit" className="danger" disabled={busy || !password || !confirmed(typed, DELETE_WORD)}>
        Delete my account</button>
    </form>
  );
}

function DeleteWorkspace({ name, slug }: { name: string; slug: string }) {
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<CodedError | string | null>(null);
  async function submit() {
    setBusy(true);
    try {
      const r = await run<DeleteTenantMutation, DeleteTenantMutationVariables>(DELETE_TENANT, { confirmSlug: typed.trim() });
      const error = asError(r.deleteTenant);
      setProblem(error);
      if (!error) { await signOut(); return; }
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
    }
    setBusy(false);
  }
  return (
    <form aria-labelledby="delete-workspace-title" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
      <h3 id="delete-workspace-title">Delete workspace</h3>
      <p>Erases {name}: its projects, renders and files; running renders are cancelled. Members keep their
        accounts. This cannot be undone.</p>
      <ErrorNote error={problem} />
      <label>Type the workspace slug <code>{slug}</code> to confirm <input autoComplete="off" value={typed}
                                                                          onChange={(e) => setTyped(e.target.value)} /></label>
      <button type="submit" className="danger" disabled={busy || !confirmed(typed, slug)}>Delete workspace</button>
    </form>
  );
}

export function DangerZone({ workspace }: { workspace: { name: string; slug: string } | null }) {
  return (
    <section aria-labelledby="danger-title" className="danger-zone">
      <h2 id="danger-title">Danger zone</h2>
      <DeleteAccount />
      {workspace && <DeleteWorkspace name={workspace.name} slug={workspace.slug} />}
    </section>
  );
}
