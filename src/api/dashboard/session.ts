import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { Queryable } from "../../db/client.ts";
import { createDashboardSession, findLiveSession, revokeDashboardSession } from "../../db/queries/dashboard-sessions.ts";
import { SESSION_COOKIE, TOKEN_SHAPE, type Caller } from "../auth.ts";
import { overHttps } from "../proxy.ts";

/**
 * Dashboard sessions and cross-site request protection.
 *
 * Signing in starts a server-side session (db/queries/dashboard-sessions.ts)
 * and puts its random id, never the API token, in an HttpOnly, SameSite=Strict
 * cookie. Each request looks the session up again: signing out revokes it, so
 * a copied cookie is worthless afterwards, and revoking the token ends its
 * sessions at once. Forms carry a CSRF token that must equal the `ucledger_csrf` cookie
 * (double submit): another site can make a browser send the cookie along with
 * a forged form (same-site ports share cookies), but it cannot read the cookie
 * to put the same value in the form.
 */

export const CSRF_COOKIE = "ucledger_csrf";
export const CSRF_FIELD = "_csrf";
/**
 * A signed-in browser stays signed in this long, unless it signs out first.
 * Sessions run on the wall clock (not a test's fixed `now`), as the API's
 * cookie check does.
 */
const SESSION_SECONDS = 12 * 60 * 60;

export const SESSION_TTL_MS = SESSION_SECONDS * 1000;

export interface DashboardSession {
  caller: Caller;
  /** The session id, for the dashboard's own calls to the API (api-client.ts). */
  id: string;
}

function cookieOptions(c: Context, maxAge: number): CookieOptions {
  return { path: "/", httpOnly: true, sameSite: "Strict", secure: overHttps(c), maxAge };
}

function newCsrfCookie(c: Context): string {
  const fresh = randomBytes(32).toString("base64url");
  setCookie(c, CSRF_COOKIE, fresh, cookieOptions(c, SESSION_SECONDS));
  return fresh;
}

/** The CSRF value for this browser, set as a cookie the first time it is needed. */
export function csrfToken(c: Context): string {
  const existing = getCookie(c, CSRF_COOKIE);
  return existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : newCsrfCookie(c);
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True when the posted form carries this browser's CSRF cookie value. */
export function csrfMatches(c: Context, posted: unknown): boolean {
  const cookie = getCookie(c, CSRF_COOKIE);
  return typeof posted === "string" && cookie !== undefined && cookie.length > 0 && sameSecret(cookie, posted);
}

/**
 * Signs in with an API token: a new session for its live token, or null when
 * the token is unknown or revoked. A session this browser already had is
 * revoked first, so no id planted before sign-in survives it. Signing in also
 * gives the browser a new CSRF value, for the same reason.
 */
export async function startSession(c: Context, db: Queryable, token: string, now: Date): Promise<Caller | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  const started = await createDashboardSession(db, { token, now, ttlMs: SESSION_TTL_MS });
  if (!started) return null;
  const previous = getCookie(c, SESSION_COOKIE);
  if (previous) await revokeDashboardSession(db, previous, now);
  setCookie(c, SESSION_COOKIE, started.id, cookieOptions(c, SESSION_SECONDS));
  newCsrfCookie(c);
  return started.caller;
}

/** Sign-out: the session is revoked on the server, then the cookie deleted. */
export async function endSession(c: Context, db: Queryable, now: Date): Promise<void> {
  const id = getCookie(c, SESSION_COOKIE);
  if (id) await revokeDashboardSession(db, id, now);
  deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict", secure: overHttps(c) });
}

/** The signed-in caller, or null (no cookie, an expired or signed-out session, or its token was revoked). */
export async function readSession(c: Context, db: Queryable, now: Date): Promise<DashboardSession | null> {
  const id = getCookie(c, SESSION_COOKIE);
  if (!id) return null;
  const caller = await findLiveSession(db, id, now);
  return caller ? { caller, id } : null;
}

/** Refuses any POST whose form lacks the CSRF cookie's value, before a handler sees it. */
export function requireCsrf(onRefused: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== "POST") return next();
    const type = c.req.header("content-type") ?? "";
    const form = /^(application\/x-www-form-urlencoded|multipart\/form-data)/i.test(type) ? await c.req.parseBody() : {};
    if (!csrfMatches(c, form[CSRF_FIELD])) return onRefused(c);
    return next();
  };
}
