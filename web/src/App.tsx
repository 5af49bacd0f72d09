import { useEffect, useState } from "react";
import { getSession, logout, onSession, refresh, switchTenant, type Session } from "./api/session";
import { match, navigate, usePath } from "./lib/router";
import { AuthPage } from "./pages/AuthPage";
import { ProjectsPage } from "./pages/ProjectsPage";
import { ProjectPage } from "./pages/ProjectPage";
import { JobPage } from "./pages/JobPage";
import { AccountPage } from "./pages/AccountPage";
import { useQuery } from "urql";
import type { MeQuery } from "./api/generated";
import { ME } from "./api/operations";

function useSession(): [Session | null, boolean] {
  const [session, setSession] = useState<Session | null>(getSession());
  const [ready, setReady] = useState(getSession() !== null);
  useEffect(() => {
    const off = onSession(setSession);
    if (!getSession()) void refresh().finally(() => setReady(true));
    return off;
  }, []);
  return [session, ready];
}

function TenantSwitcher({ session }: { session: Session }) {
  const [{ data }] = useQuery<MeQuery>({ query: ME, variables: {} });
  const memberships = data?.me.memberships ?? [];
  if (memberships.length < 2) return <span className="tenant">{memberships[0]?.tenantName ?? ""}</span>;
  return (
    <label className="tenant">
      <span className="sr-only">Workspace</span>
      <select value={session.tenantId} aria-label="Switch workspace"
              onChange={(e) => { void switchTenant(e.target.value).then(() => navigate("/projects")); }}>
        {memberships.map((m) => <option key={m.tenantId} value={m.tenantId}>{m.tenantName} ({m.role.toLowerCase()})</option>)}
      </select>
    </label>
  );
}

function Routes({ path }: { path: string }) {
  let params = match("/projects/:id", path);
  if (params) return <ProjectPage projectId={params.id!} />;
  params = match("/jobs/:id", path);
  if (params) return <JobPage jobId={params.id!} />;
  if (path === "/account") return <AccountPage />;
  return <ProjectsPage />;
}

export function App() {
  const [session, ready] = useSession();
  const path = usePath();
  if (!ready) return <main className="loading" aria-busy="true">Loading…</main>;
  if (!session) return <AuthPage />;
  return (
    <>
      <header className="top">
        <a href="/projects" className="brand" onClick={(e) => { e.preventDefault(); navigate("/projects"); }}>Recap</a>
        <nav aria-label="Main">
          <a href="/projects" onClick={(e) => { e.preventDefault(); navigate("/projects"); }}>Projects</a>
          <a href="/account" onClick={(e) => { e.preventDefault(); navigate("/account"); }}>Account</a>
        </nav>
        <TenantSwitcher session={session} key={session.tenantId} />
        <span className="who">{session.user.displayName}</span>
        <button type="button" onClick={() => { void logout().then(() => navigate("/", true)); }}>Sign out</button>
      </header>
      <main key={session.tenantId}><Routes path={path} /></main>
    </>
  );
}
