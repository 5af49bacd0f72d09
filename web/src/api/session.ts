// The session: the access token lives in memory only; the refresh token is an HttpOnly cookie
// that only /auth/* endpoints see (app/web/session.py). A reload restores the session by
// spending the cookie once.

export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
  isPlatformAdmin: boolean;
}

export interface Session {
  accessToken: string;
  expiresIn: number;
  tenantId: string;
  role: string;
  user: SessionUser;
}

export class ApiError extends Error {
  constructor(public code: string, message: string, public field: string | null = null,
              public retryAfter: number | null = null) {
    super(message);
  }
}

type Listener = (session: Session | null) => void;

let current: Session | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<Session | null> | null = null;
const listeners = new Set<Listener>();

export function getSession(): Session | null {
  return current;
}

export function accessToken(): string | null {
  return current?.accessToken ?? null;
}

export function onSession(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setSession(session: Session | null): void {
  current = session;
  if (timer) clearTimeout(timer);
  if (session) {
    // Refresh a minute before expiry (at least 10 s from now).
    const ms = Math.max(10, session.expiresIn - 60) * 1000;
    timer = setTimeout(() => { void refresh(); }, ms);
  }
  listeners.forEach((listener) => listener(session));
}

async function post(path: string, body: unknown, bearer?: string): Promise<Session> {
  const headers: Record<string, string> = { "Content-Type": "application/json", "X-Recap-Client": "web" };
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const response = await fetch(path, { method: "POST", headers, body: JSON.stringify(body),
                                        credentials: "same-origin" });
  const data = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string;
    field: string | null }; } & Partial<Session>;
  if (!response.ok || data.error) {
    const err = data.error ?? { code: "UNAVAILABLE", message: `the server answered ${response.status}`, field: null };
    const retry = Number(response.headers.get("Retry-After")) || null;
    throw new ApiError(err.code, err.message, err.field, retry);
  }
  return data as Session;
}

export async function login(email: string, password: string, tenantId?: string): Promise<Session> {
  const session = await post("/auth/login", { email, password, tenantId });
  setSession(session);
  return session;
}

export async function register(email: string, password: string, displayName: string,
                               tenantName: string): Promise<Session> {
  const session = await post("/auth/register", { email, password, displayName, tenantName });
  setSession(session);
  return session;
}

export async function switchTenant(tenantId: string): Promise<Session> {
  const session = await post("/auth/switch", { tenantId }, current?.accessToken);
  setSession(session);
  return session;
}

/** Spend the refresh cookie; null when there is no (valid) session. Concurrent callers share one call. */
export function refresh(): Promise<Session | null> {
  refreshing ??= post("/auth/refresh", {})
    .then((session) => { setSession(session); return session; })
    .catch(() => { setSession(null); return null; })
    .finally(() => { refreshing = null; });
  return refreshing;
}

export async function logout(): Promise<void> {
  try {
    await fetch("/auth/logout", { method: "POST", headers: { "X-Recap-Client": "web",
      "Content-Type": "application/json" }, body: "{}", credentials: "same-origin" });
  } finally {
    setSession(null);
  }
}
