import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { ApiRequest } from "./http.ts";
import { parseHttpDate } from "./time.ts";

// Uploadcare's two REST auth schemes, with the API's own error texts.

export const ACCEPT_V07 = "application/vnd.uploadcare-v0.7+json";
export const ACCEPT_DETAIL = "Incorrect Accept header provided. Make sure to specify API version. Refer to REST API docs for details.";
export const BAD_CREDENTIALS = "Incorrect authentication credentials.";
export const BAD_SIGNATURE = "Invalid signature. Please check your Secret key.";
export const SECRET_NOT_FOUND = "Secret key not found.";
export const SIMPLE_OVER_HTTP = "Simple authentication over HTTP is forbidden. Please, use HTTPS or signed requests instead.";
export const MAX_SKEW_MS = 15 * 60 * 1000;

export function publicKeyNotFound(key: string): string {
  return `Public key ${key} not found.`;
}

/** True when Accept names the v0.7 media type (other types and parameters may accompany it). */
export function acceptsV07(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(",").some((part) => part.split(";")[0]?.trim().toLowerCase() === ACCEPT_V07);
}

export type AuthOutcome =
  | { ok: true; publicKey: string }
  | { ok: false; status: 400 | 401; detail: string; publicKey: string | null };

export interface AuthKeys {
  publicKey: string;
  secretKey: string;
}

export interface AuthOptions {
  /** Sandbox time. */
  nowMs: number;
  /**
   * The base clock before any `advanceClock`: a moved sandbox clock simulates
   * time passing at Uploadcare, not a client whose clock is off, so dates
   * within 15 minutes of either are accepted.
   */
  baseMs: number;
  /** Uploadcare refuses Simple auth over plain HTTP; the sandbox allows it unless told not to. */
  simpleAuthOverHttp: boolean;
}

export function md5Hex(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/** The string the `Uploadcare` scheme signs: five lines, no trailing newline. */
export function signString(method: string, body: Uint8Array, contentType: string, date: string, uri: string): string {
  return [method.toUpperCase(), md5Hex(body), contentType, date, uri].join("\n");
}

export function sign(secretKey: string, text: string): string {
  return createHmac("sha1", secretKey).update(text).digest("hex");
}

export function authenticate(req: ApiRequest, keys: AuthKeys, options: AuthOptions): AuthOutcome {
  const header = req.header("authorization")?.trim();
  const m = header ? /^(Uploadcare\.Simple|Uploadcare)\s+([^:\s]*):(\S*)$/.exec(header) : null;
  if (!m) return { ok: false, status: 401, detail: BAD_CREDENTIALS, publicKey: null };
  const [, scheme, publicKey = "", credential = ""] = m;
  if (publicKey !== keys.publicKey) return { ok: false, status: 401, detail: publicKeyNotFound(publicKey), publicKey };

  if (scheme === "Uploadcare.Simple") {
    if (!options.simpleAuthOverHttp) return { ok: false, status: 400, detail: SIMPLE_OVER_HTTP, publicKey };
    if (credential === "") return { ok: false, status: 401, detail: SECRET_NOT_FOUND, publicKey };
    if (!sameText(credential, keys.secretKey)) return { ok: false, status: 401, detail: BAD_CREDENTIALS, publicKey };
    return { ok: true, publicKey };
  }

  // Browsers cannot set Date, so the JS SDK sends X-Uploadcare-Date; others send Date.
  const date = req.header("x-uploadcare-date") ?? req.header("date");
  const dateMs = date === undefined ? null : parseHttpDate(date);
  const skewed = (ms: number) => Math.abs(ms - options.nowMs) > MAX_SKEW_MS && Math.abs(ms - options.baseMs) > MAX_SKEW_MS;
  if (date === undefined || dateMs === null || skewed(dateMs)) {
    return { ok: false, status: 401, detail: BAD_CREDENTIALS, publicKey };
  }
  const expected = sign(keys.secretKey, signString(req.method, req.bodyBytes, req.header("content-type") ?? "", date, req.rawUri));
  if (!sameText(credential.toLowerCase(), expected)) return { ok: false, status: 401, detail: BAD_SIGNATURE, publicKey };
  return { ok: true, publicKey };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
