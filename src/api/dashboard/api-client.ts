import type { Hono } from "hono";
import { DASHBOARD_SESSION } from "../auth.ts";

/**
 * The dashboard reads and writes through the HTTP API itself, in-process and
 * as the signed-in session's token: the same validation, role checks, error messages
 * and access log as any other client, and no second copy of any query.
 */

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | boolean | undefined | readonly string[]>;

export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) params.append(key, String(one));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

export interface ApiClient {
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
}

/**
 * `app` is the whole API; each call goes through its middleware like a request
 * from outside, authenticated by the session id in the request's env (see
 * DASHBOARD_SESSION), so a session signed out mid-page stops at the next call.
 */
export function apiClient(app: Pick<Hono, "request">, sessionId: string): ApiClient {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, { [DASHBOARD_SESSION]: sessionId });
    const payload = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    if (!res.ok) {
      throw new ApiFailure(res.status, payload?.error?.code ?? "ERROR", payload?.error?.message ?? `the API answered ${res.status}`);
    }
    return payload as T;
  };
  return {
    get: (path, query = {}) => call("GET", `${path}${queryString(query)}`),
    post: (path, body) => call("POST", path, body ?? {}),
  };
}
