import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import type { Queryable } from "../db/client.ts";
import { findLiveSession } from "../db/queries/dashboard-sessions.ts";
import { findLiveToken } from "../db/queries/tokens.ts";
import { TOKEN_ROLES, type TokenRole } from "../db/schema/index.ts";
import { errorResponse } from "./errors.ts";

/** The dashboard's HTML pages: they sign people in themselves (a session cookie) and are not part of the API document. */
export const DASHBOARD_ROUTES: readonly string[] = ["GET /", "GET /dashboard", "GET /dashboard/*", "POST /dashboard/*"];

/**
 * Routes reachable without a token, as `METHOD /path` (HEAD counts as GET).
 * Everything else needs `Authorization: Bearer <token>`. `/metrics` is listed
 * for the metrics endpoint; a deployment that wants it behind a token passes
 * its own list (ApiDeps.publicRoutes) without it.
 */
export const DEFAULT_PUBLIC_ROUTES: readonly string[] = [
  "GET /healthz",
  "GET /metrics",
  "GET /openapi.json",
  "GET /docs",
  // Uploadcare cannot send a bearer token: the X-Uc-Signature is its credential.
  "POST /v1/webhooks/uploadcare",
  ...DASHBOARD_ROUTES,
];

/**
 * The dashboard's session cookie: a random session id (never the token),
 * HttpOnly and SameSite=Strict, looked up server-side on every request
 * (db/queries/dashboard-sessions.ts). The API accepts it for reading
 * (GET/HEAD) only, so the dashboard's links to exports and reports work in the
 * browser, while every write still needs a bearer token or a dashboard form
 * with its CSRF token.
 */
export const SESSION_COOKIE = "ucledger_session";

/**
 * The dashboard's own in-process calls to the API (api-client.ts) carry the
 * session id here, in the request's env, which no request from the network can
 * set. They may write: the dashboard checked the form's CSRF token first.
 */
export const DASHBOARD_SESSION = Symbol("ucledger.dashboardSession");

function inProcessSession(c: Context): string | undefined {
  const env = c.env as { [DASHBOARD_SESSION]?: unknown } | undefined;
  const id = env?.[DASHBOARD_SESSION];
  return typeof id === "string" ? id : undefined;
}

export interface Caller {
  name: string;
  role: TokenRole;
}

export interface AuthVariables {
  caller: Caller | undefined;
}

/** Our tokens are `ucl_` + base64url; anything else cannot match, so it is not looked up. */
export const TOKEN_SHAPE = /^[A-Za-z0-9_-]{16,200}$/;
const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function unauthorized(c: Context, message: string) {
  c.header("WWW-Authenticate", 'Bearer realm="ucledger"');
  return errorResponse(c, "UNAUTHORIZED", message);
}

/** Exact `METHOD /path` entries, or `METHOD /prefix/*` for everything under a prefix. */
export function isPublic(publicRoutes: ReadonlySet<string>, method: string, path: string): boolean {
  const verb = method === "HEAD" ? "GET" : method;
  if (publicRoutes.has(`${verb} ${path}`)) return true;
  for (let cut = path.lastIndexOf("/"); cut > 0; cut = path.lastIndexOf("/", cut - 1)) {
    if (publicRoutes.has(`${verb} ${path.slice(0, cut)}/*`)) return true;
  }
  return false;
}

const isRead = (method: string) => method === "GET" || method === "HEAD";

/** Resolves the bearer token to a caller, or answers 401. Never echoes the token. */
export function authenticate(deps: { db: Queryable; publicRoutes: ReadonlySet<string> }): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async (c, next) => {
    if (isPublic(deps.publicRoutes, c.req.method, c.req.path)) return next();
    const header = c.req.header("authorization");
    const dashboard = header ? undefined : inProcessSession(c);
    if (dashboard !== undefined) {
      const caller = await findLiveSession(deps.db, dashboard, new Date());
      if (!caller) return unauthorized(c, "Authorization: the dashboard session has ended; sign in again");
      c.set("caller", caller);
      return next();
    }
    const session = header || !isRead(c.req.method) ? undefined : getCookie(c, SESSION_COOKIE);
    if (session !== undefined) {
      const caller = await findLiveSession(deps.db, session, new Date());
      if (!caller) return unauthorized(c, "Authorization: the session cookie is unknown, expired or signed out");
      c.set("caller", caller);
      return next();
    }
    if (!header) return unauthorized(c, "Authorization: a bearer token is required");
    const token = BEARER.exec(header)?.[1];
    if (!token) return unauthorized(c, "Authorization: must be 'Bearer <token>'");
    const caller = TOKEN_SHAPE.test(token) ? await findLiveToken(deps.db, token) : null;
    if (!caller) return unauthorized(c, "Authorization: the token is unknown or revoked");
    c.set("caller", caller);
    return next();
  };
}

const rank = (role: TokenRole) => TOKEN_ROLES.indexOf(role);

/** Answers 403 unless the caller's role is at least `role` (viewer < operator < admin). */
export function requireRole(role: TokenRole): MiddlewareHandler {
  return async (c, next) => {
    const caller = c.get("caller") as Caller | undefined;
    if (!caller) return unauthorized(c, "Authorization: a bearer token is required");
    if (rank(caller.role) < rank(role)) {
      return errorResponse(c, "FORBIDDEN", `token ${caller.name} has role ${caller.role}; this needs ${role} or above`);
    }
    return next();
  };
}
