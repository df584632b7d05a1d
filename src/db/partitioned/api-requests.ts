import { integer, numeric, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "../schema/columns.ts";

/**
 * Every request ucledger makes to Uploadcare, every webhook delivery it receives and
 * every request applications report. Created by a custom migration (partitioned by
 * month, which drizzle-kit cannot express); declared here for typed queries only.
 */
export const apiRequests = pgTable("api_requests", {
  projectKey: projectKey(),
  id: uuid("id").notNull(),
  requestedAt: microTimestamp("requested_at").notNull(),
  /** Who made it: `ucledger`, `uploadcare` (webhook deliveries), or the reporting application's name. */
  source: text("source").notNull(),
  /** Which API: `rest`, `upload`, `project` (usage), `webhook`. */
  api: text("api").notNull(),
  method: text("method").notNull(),
  path: text("path").notNull(),
  query: text("query"),
  /** Null when no answer came (network error, timeout). */
  status: integer("status"),
  durationMs: integer("duration_ms").notNull(),
  attempt: integer("attempt").notNull(),
  retryAfterS: numeric("retry_after_s", { mode: "number" }),
  bytes: integer("bytes"),
  error: text("error"),
  runId: text("run_id"),
});

export type ApiRequest = typeof apiRequests.$inferSelect;
export type NewApiRequest = typeof apiRequests.$inferInsert;
