import { createHash, randomBytes, randomUUID } from "node:crypto";
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { apiTokens, type TokenRole } from "../schema/index.ts";
import { canonicalTimestampOrNull, dateToTimestamp } from "../timestamps.ts";
import { ConflictError, NotFoundError, ValidationError } from "../../errors.ts";
import { isoColumn } from "./iso.ts";
import { pageAcrossProjects, type KeysetOrder, type KeysetPosition } from "./keyset.ts";

/** Every token starts with this, so a leaked one is easy to recognise (and to scan for). */
export const TOKEN_PREFIX = "ucl_";

/** Letters, digits, `.`, `_` and `-`; names appear in logs and the access log. */
export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface TokenInfo {
  name: string;
  role: TokenRole;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

/**
 * SHA-256, not a slow password hash: the token carries 256 random bits, so no
 * dictionary or brute force applies, and a fast hash keeps the per-request
 * lookup an indexed equality on the hash.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** 32 random bytes, base64url: 256 bits of entropy. */
export function generateToken(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

function checkName(name: string): void {
  if (!TOKEN_NAME_PATTERN.test(name)) {
    throw new ValidationError("name: must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
}

function toInfo(row: typeof apiTokens.$inferSelect): TokenInfo {
  return {
    name: row.name,
    role: row.role,
    createdAt: canonicalTimestampOrNull(row.createdAt)!,
    createdBy: row.createdBy,
    revokedAt: canonicalTimestampOrNull(row.revokedAt),
  };
}

/** Creates a token; the returned `token` is the only copy there will ever be. */
export async function createToken(
  db: Queryable,
  input: { name: string; role: TokenRole; createdBy: string; now: Date },
): Promise<TokenInfo & { token: string }> {
  checkName(input.name);
  const token = generateToken();
  const rows = await db
    .insert(apiTokens)
    .values({
      id: randomUUID(),
      name: input.name,
      role: input.role,
      tokenHash: hashToken(token),
      createdAt: dateToTimestamp(input.now),
      createdBy: input.createdBy,
    })
    .onConflictDoNothing()
    .returning();
  const row = rows[0];
  if (!row) throw new ConflictError(`token ${input.name} already exists: revoke it first`);
  return { ...toInfo(row), token };
}

/** Revokes the live token of that name; its row stays, for the access log's sake. */
export async function revokeToken(db: Queryable, input: { name: string; now: Date }): Promise<TokenInfo> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: dateToTimestamp(input.now) })
    .where(and(eq(apiTokens.name, input.name), isNull(apiTokens.revokedAt)))
    .returning();
  const row = rows[0];
  if (!row) throw new NotFoundError("token", input.name);
  return toInfo(row);
}

/** Revokes any live token of that name and creates a new one, atomically. */
export async function rotateToken(
  db: Queryable,
  input: { name: string; role: TokenRole; createdBy: string; now: Date },
): Promise<TokenInfo & { token: string }> {
  return db.transaction(async (tx) => {
    await tx
      .update(apiTokens)
      .set({ revokedAt: dateToTimestamp(input.now) })
      .where(and(eq(apiTokens.name, input.name), isNull(apiTokens.revokedAt)));
    return createToken(tx, input);
  });
}

/** The live token a presented secret belongs to, if any. */
export async function findLiveToken(db: Queryable, token: string): Promise<{ name: string; role: TokenRole } | null> {
  const rows = await db
    .select({ name: apiTokens.name, role: apiTokens.role })
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt)))
    .limit(1);
  return rows[0] ?? null;
}

/** Oldest first. */
export const TOKEN_ORDER: KeysetOrder = {
  lead: [{ expr: sql`api_tokens.created_at`, cast: "timestamptz", field: "created_at" }],
  tie: { expr: sql`api_tokens.id`, cast: "uuid", field: "id" },
  direction: "asc",
};

const TOKEN_COLUMNS = sql.raw(`id::text as id, name, role, ${isoColumn("created_at")}, created_by, ${isoColumn("revoked_at")}`);

export async function listTokens(
  db: Queryable,
  query: { includeRevoked: boolean; after: KeysetPosition | null; limit: number },
): Promise<{ items: TokenInfo[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<{ id: string; name: string; role: TokenRole; created_at: string; created_by: string; revoked_at: string | null }>(db, {
    columns: TOKEN_COLUMNS,
    from: sql`api_tokens`,
    where: query.includeRevoked ? [] : [sql`revoked_at is null`],
    order: TOKEN_ORDER,
    projects: null,
    after: query.after,
    limit: query.limit,
  });
  return {
    items: page.rows.map((r) => ({
      name: r.name,
      role: r.role,
      createdAt: r.created_at,
      createdBy: r.created_by,
      revokedAt: r.revoked_at,
    })),
    next: page.next,
  };
}
