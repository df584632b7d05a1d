import { index, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { microTimestamp } from "./columns.ts";
import { apiTokens } from "./tokens.ts";

/**
 * Signed-in dashboard browsers. The cookie holds a random session id (32 bytes,
 * base64url), never the API token; only the id's SHA-256 is kept here, so a
 * copy of this table signs no one in. A session is live while it is neither
 * expired nor revoked (sign-out) and its token is not revoked: the lookup joins
 * `api_tokens`, so revoking or rotating a token ends its sessions at once.
 * Deployment-level like `api_tokens`, so one of the documented exceptions to
 * "every key starts with project_key".
 */
export const dashboardSessions = pgTable(
  "dashboard_sessions",
  {
    /** Hex SHA-256 of the session id the cookie carries. */
    idHash: text("id_hash").primaryKey(),
    tokenId: uuid("token_id")
      .notNull()
      .references(() => apiTokens.id),
    createdAt: microTimestamp("created_at").notNull(),
    expiresAt: microTimestamp("expires_at").notNull(),
    /** Set at sign-out (or when the browser signs in again over it). */
    revokedAt: microTimestamp("revoked_at"),
    /** Moved forward at most once a minute, so reading pages does not write on every request. */
    lastSeenAt: microTimestamp("last_seen_at").notNull(),
  },
  (t) => [
    // The foreign key's lookups, and "sessions of this token".
    index("dashboard_sessions_token_idx").on(t.tokenId),
    // The daily sweep of long-expired sessions.
    index("dashboard_sessions_expires_idx").on(t.expiresAt),
  ],
);

export type DashboardSessionRow = typeof dashboardSessions.$inferSelect;
