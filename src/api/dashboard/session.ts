import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { CookieOptions } from "hono/utils/cookie";
import type { Queryable } from "../../db/client.ts";
import { findLiveToken } from "../../db/queries/tokens.ts";
import { SESSION_COOKIE, TOKEN_SHAPE, type Caller } from "../auth.ts";

/**
 * Dashboard sessions and cross-site request protection.
 *
 * Signing in puts the API token in an HttpOnly, SameSite=Strict cookie; each
 * request looks the token up again, so a revoked token ends its sessions at
 * once. Forms carry a CSRF token that must equal the `ucledger_csrf` cookie
 * (double submit): another site can make a browser send the cookie along with
 * a forged form (same-site ports share cookies), but it cannot read the cookie
 * to put the same value in the form.
 */

export const CSRF_COOKIE = "ucledger_csrf";
export const CSRF_FIELD = "_csrf";
/** A signed-in browser stays signed in this long, unless it signs out first. */
const SESSION_SECONDS = 12 * 60 * 60;

export interface DashboardSession {
  caller: Caller;
  /** The API token, for the dashboard's own calls to the API. */
  token: string;
}

/** Secure when the browser reached us over HTTPS, directly or through a proxy that says so. */
function overHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
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

/** Signing in also gives the browser a new CSRF value, so one planted before sign-in is worthless after. */
export function startSession(c: Context, token: string): void {
  setCookie(c, SESSION_COOKIE, token, cookieOptions(c, SESSION_SECONDS));
  newCsrfCookie(c);
}

export function endSession(c: Context): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/" });
}

/** The signed-in caller, or null (no cookie, or its token was revoked). */
export async function readSession(c: Context, db: Queryable): Promise<DashboardSession | null> {
  const token = getCookie(c, SESSION_COOKIE);
  if (!token || !TOKEN_SHAPE.test(token)) return null;
  const caller = await findLiveToken(db, token);
  return caller ? { caller, token } : null;
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
