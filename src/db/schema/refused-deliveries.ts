import { index, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";

/** Why a webhook delivery was refused; each maps to one HTTP status. */
export const REFUSAL_REASONS = ["signature_missing", "signature_invalid", "body_too_large"] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

/**
 * Webhook deliveries the receiver refused (no valid signature, body too large),
 * counted rather than stored one by one: unauthenticated traffic must not grow
 * the database with each request. One row per source address, minute and
 * reason, bumped with `count = count + 1`. A refused delivery names no project
 * we can trust, so `project_key` is always "-" (as in `api_requests`).
 */
export const refusedWebhookDeliveries = pgTable(
  "refused_webhook_deliveries",
  {
    projectKey: projectKey(),
    /** The client's address (an IPv6 address folded to its /64), `unknown`, or `other` past the per-minute cap of sources. */
    source: text("source").notNull(),
    /** The start of the UTC minute the deliveries arrived in. */
    minute: microTimestamp("minute").notNull(),
    reason: text("reason").$type<RefusalReason>().notNull(),
    count: integer("count").notNull(),
    lastAt: microTimestamp("last_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "refused_webhook_deliveries_pkey", columns: [t.projectKey, t.source, t.minute, t.reason] }),
    // Listing newest first, and the daily sweep of old minutes.
    index("refused_webhook_deliveries_minute_idx").on(t.minute),
  ],
);
