import { createHash, randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { execute, queryRows } from "../query.ts";
import type { TokenRole } from "../schema/index.ts";
import { dateToTimestamp } from "../timestamps.ts";
import { hashToken } from "./tokens.ts";

/**
 * Server-side dashboard sessions (schema/dashboard-sessions.ts). The browser
 * holds a random id; the database holds its hash, the token it acts as, and
 * when it expires or was revoked.
 */

/** 32 random bytes, base64url: what the cookie carries. */
export const SESSION_ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** SHA-256, not a slow hash: the id carries 256 random bits, so nothing is guessable. */
export function hashSessionId(id: string): string {
  return createHash("sha256").update(id, "utf8").digest("hex");
}

export interface SessionCaller {
  name: string;
  role: TokenRole;
}

/**
 * Starts a session for the live token a presented secret belongs to; null when
 * there is none (unknown or revoked). The returned id is the only copy.
 */
export async function createDashboardSession(
  db: Queryable,
  input: { token: string; now: Date; ttlMs: number },
): Promise<{ id: string; caller: SessionCaller; expiresAt: string } | null> {
  const id = randomBytes(32).toString("base64url");
  const now = dateToTimestamp(input.now);
  const expiresAt = dateToTimestamp(new Date(input.now.getTime() + input.ttlMs));
  const rows = await queryRows<{ name: string; role: TokenRole }>(
    db,
    sql`with token as (
          select id, name, role from api_tokens where token_hash = ${hashToken(input.token)} and revoked_at is null
        ), started as (
          insert into dashboard_sessions (id_hash, token_id, created_at, expires_at, last_seen_at)
          select ${hashSessionId(id)}, id, ${now}::timestamptz, ${expiresAt}::timestamptz, ${now}::timestamptz from token
          returning token_id
        )
        select token.name, token.role from started join token on token.id = started.token_id`,
  );
  const row = rows[0];
  return row ? { id, caller: { name: row.name, role: row.role }, expiresAt } : null;
}

/**
 * The caller of a live session: not expired, not signed out, and its token not
 * revoked (checked here, on every request, so revoking a token ends its sessions).
 */
export async function findLiveSession(db: Queryable, id: string, now: Date): Promise<SessionCaller | null> {
  if (!SESSION_ID_SHAPE.test(id)) return null;
  const idHash = hashSessionId(id);
  const at = dateToTimestamp(now);
  const rows = await queryRows<{ name: string; role: TokenRole; stale: boolean }>(
    db,
    sql`select t.name, t.role,
               -- Seen-at moves forward at most once a minute, so reading pages rarely writes.
               s.last_seen_at < ${at}::timestamptz - interval '1 minute' as stale
        from dashboard_sessions s join api_tokens t on t.id = s.token_id
        where s.id_hash = ${idHash} and s.revoked_at is null and s.expires_at > ${at}::timestamptz and t.revoked_at is null`,
  );
  const row = rows[0];
  if (!row) return null;
  if (row.stale) {
    await execute(db, sql`update dashboard_sessions set last_seen_at = ${at}::timestamptz where id_hash = ${idHash} and last_seen_at < ${at}::timestamptz`);
  }
  return { name: row.name, role: row.role };
}

/** Sign-out: the id stops working everywhere, whoever holds a copy. True when a live session ended. */
export async function revokeDashboardSession(db: Queryable, id: string, now: Date): Promise<boolean> {
  if (!SESSION_ID_SHAPE.test(id)) return false;
  const ended = await execute(
    db,
    sql`update dashboard_sessions set revoked_at = ${dateToTimestamp(now)}::timestamptz where id_hash = ${hashSessionId(id)} and revoked_at is null`,
  );
  return ended > 0;
}

/** The daily sweep: sessions that ended (expired or revoked) before `before` are deleted. */
export async function dropEndedDashboardSessions(db: Queryable, before: Date): Promise<number> {
  const cut = dateToTimestamp(before);
  return execute(db, sql`delete from dashboard_sessions where expires_at < ${cut}::timestamptz or revoked_at < ${cut}::timestamptz`);
}
