// The GraphQL client: urql over fetch (bearer token from memory, one silent refresh on
// UNAUTHENTICATED) and graphql-ws (graphql-transport-ws) for subscriptions, reconnecting by itself.
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from "urql";
import { createClient as createWsClient } from "graphql-ws";
import { accessToken, refresh } from "./session";

async function authFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const send = (token: string | null) => {
    const headers = new Headers(init?.headers);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
  const response = await send(accessToken());
  const copy = response.clone();
  const body = (await copy.json().catch(() => null)) as { errors?: { extensions?: { code?: string } }[] } | null;
  const expired = body?.errors?.some((e) => e.extensions?.code === "UNAUTHENTICATED");
  if (!expired) return response;
  const session = await refresh();
  return session ? send(session.accessToken) : response;
}

export function wsUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss" : "ws"}://${host}/graphql`;
}

const ws = createWsClient({
  url: wsUrl,
  lazy: true,
  retryAttempts: Infinity,
  shouldRetry: () => true,
  retryWait: async (retries) => {
    await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 500 * 2 ** retries)));
  },
  connectionParams: async () => {
    const token = accessToken() ?? (await refresh())?.accessToken;
    return token ? { authorization: `Bearer ${token}` } : {};
  },
});

export const client = new Client({
  url: "/graphql",
  fetch: authFetch,
  requestPolicy: "cache-and-network",
  exchanges: [
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query ?? "" };
        return { subscribe(sink) { return { unsubscribe: ws.subscribe(input, sink) }; } };
      },
    }),
  ],
});

/** Run a query or mutation and return its data; transport and top-level errors throw. */
export async function run<TData, TVars extends object>(query: string, variables: TVars): Promise<TData> {
  const result = await client.mutation<TData, TVars>(query, variables).toPromise();
  if (result.error) throw result.error;
  if (!result.data) throw new Error("no data");
  return result.data;
}
