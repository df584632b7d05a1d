import { sql } from "drizzle-orm";
import { index, integer, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { microTimestamp } from "./columns.ts";

export const TOKEN_ROLES = ["viewer", "operator", "admin"] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/**
 * Bearer tokens of the HTTP API. Deployment-level, not per project, so this table
 * is one of the documented exceptions to "every key starts with project_key".
 * Only the SHA-256 of each token is kept: the token itself is shown once, at creation.
 */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid("id").primaryKey(),
    name: text("name").notNull(),
    role: text("role").$type<TokenRole>().notNull(),
    /** Hex SHA-256 of the token. */
    tokenHash: text("token_hash").notNull(),
    createdAt: microTimestamp("created_at").notNull(),
    /** Who created it: `cli:<user>`, `token:<name>` (through the API) or `ucledger:demo`. */
    createdBy: text("created_by").notNull(),
    revokedAt: microTimestamp("revoked_at"),
  },
  (t) => [
    // Every authenticated request looks its token up by hash.
    uniqueIndex("api_tokens_hash_idx").on(t.tokenHash),
    // Partial: a name is unique among live tokens only, so a revoked token's row
    // (and the access log naming it) stays while the name is given out again.
    uniqueIndex("api_tokens_live_name_idx")
      .on(t.name)
      .where(sql`${t.revokedAt} IS NULL`),
  ],
);

/**
 * One row per request to a protected route: reading the ledger is itself audited.
 * Deployment-level like `api_tokens`.
 */
export const apiAccessLog = pgTable(
  "api_access_log",
  {
    id: uuid("id").primaryKey(),
    requestedAt: microTimestamp("requested_at").notNull(),
    requestId: text("request_id").notNull(),
    /** Null when no valid token came with the request (it was answered 401). */
    tokenName: text("token_name"),
    method: text("method").notNull(),
    /** The route pattern as in the OpenAPI document (`/v1/files/{uuid}`); null when no route matched. */
    route: text("route"),
    status: integer("status").notNull(),
    /** Until the response started; exports keep streaming after that. */
    durationMs: integer("duration_ms").notNull(),
  },
  (t) => [
    // Reading the log is by time, newest first, optionally for one token.
    index("api_access_log_time_idx").on(t.requestedAt, t.id),
    index("api_access_log_token_idx").on(t.tokenName, t.requestedAt),
  ],
);

export type ApiToken = typeof apiTokens.$inferSelect;
export type ApiAccess = typeof apiAccessLog.$inferSelect;
export type NewApiAccess = typeof apiAccessLog.$inferInsert;
