import { isIPv4, isIPv6 } from "node:net";
import type { Context } from "hono";

/**
 * What a reverse proxy in front of ucledger tells us about the client. The
 * forwarded headers are only believed when the deployment says it is behind a
 * proxy (UCLEDGER_BEHIND_PROXY): otherwise any client could write them.
 */

/**
 * Secure cookies when the browser reached us over HTTPS, directly or through a
 * proxy that says so. X-Forwarded-Proto is honoured either way: a client that
 * forges it only makes its own cookies Secure.
 */
export function overHttps(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto")?.split(",")[0]?.trim() === "https";
}

/** The TCP peer as @hono/node-server gives it; undefined in-process (app.request). */
function peerAddress(c: Context): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress;
}

/**
 * The client's address, normalised so one client is one value: IPv4-mapped
 * IPv6 becomes IPv4, and an IPv6 address is folded to its /64 (one host
 * commonly holds a whole /64, so counting single addresses would not bound
 * anything). Behind a proxy, the last X-Forwarded-For entry (the one the
 * proxy appended) is the client; earlier entries are the client's own claims.
 * `unknown` when there is no address.
 */
export function clientAddress(c: Context, behindProxy: boolean): string {
  const forwarded = behindProxy ? c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim() : undefined;
  return normaliseAddress(forwarded || peerAddress(c));
}

export function normaliseAddress(raw: string | undefined): string {
  if (!raw) return "unknown";
  const address = raw.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped && isIPv4(mapped)) return mapped;
  if (isIPv4(address)) return address;
  if (isIPv6(address)) return `${ipv6Prefix64(address)}::/64`;
  return "unknown";
}

/** The first four groups of an IPv6 address, expanded and lower-cased. */
function ipv6Prefix64(address: string): string {
  const [head = "", tail = ""] = address.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = address.includes("::") ? (tail ? tail.split(":") : []) : [];
  // A trailing embedded IPv4 (::1.2.3.4) counts as two groups.
  const groupsOf = (parts: string[]) => parts.reduce((n, p) => n + (p.includes(".") ? 2 : 1), 0);
  const full = address.includes("::") ? [...left, ...Array(8 - groupsOf(left) - groupsOf(right)).fill("0"), ...right] : left;
  return full
    .slice(0, 4)
    .map((g) => (g.includes(".") ? "0" : String(parseInt(g, 16).toString(16))))
    .join(":");
}
