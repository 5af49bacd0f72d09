import { useState, type FormEvent } from "react";
import { ApiError, login, register } from "../api/session";
import { ErrorNote } from "../components/ErrorNote";
import { navigate } from "../lib/router";

export function AuthPage() {
  const [mode, setMode] = useState<"in" | "up">("in");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "");
    setBusy(true);
    setError(null);
    try {
      if (mode === "in") await login(text("email"), text("password"));
      else await register(text("email"), text("password"), text("displayName"), text("tenantName"));
      if (!window.location.pathname.startsWith("/projects") && !window.location.pathname.startsWith("/jobs")) {
        navigate("/projects", true);
      }
    } catch (ex) {
      setError(ex instanceof ApiError ? ex : new ApiError("UNAVAILABLE", String(ex)));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="auth">
      <h1>Recap</h1>
      <p>Turn a movie and your recap script into a finished, narrated recap.</p>
      <div role="tablist" aria-label="Sign in or sign up">
        <button role="tab" type="button" aria-selected={mode === "in"} onClick={() => setMode("in")}>Sign in</button>
        <button role="tab" type="button" aria-selected={mode === "up"} onClick={() => setMode("up")}>Sign up</button>
      </div>
      <form onSubmit={(e) => { void submit(e); }} aria-label={mode === "in" ? "Sign in" : "Sign up"}>
        <label>Email <input name="email" type="email" autoComplete="email" required /></label>
        <label>Password <input name="password" type="password" required minLength={8}
                               autoComplete={mode === "in" ? "current-password" : "new-password"} /></label>
        {mode === "up" && (<>
          <label>Your name <input name="displayName" required maxLength={100} autoComplete="name" /></label>
          <label>Workspace name <input name="tenantName" required maxLength={100} /></label>
        </>)}
        {error?.field && <p className="error">Check the field “{error.field}”.</p>}
        <ErrorNote error={error} />
        <button type="submit" disabled={busy}>{mode === "in" ? "Sign in" : "Create account"}</button>
      </form>
    </main>
  );
}
