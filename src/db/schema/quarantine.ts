import { index, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";

/**
 * Upstream records the ledger could not store as sent: a value PostgreSQL refuses
 * (NUL, a lone surrogate) or an object that fails the file schema. The raw JSON
 * text is kept exactly (escapes stay escapes, so `text` holds it), with the
 * reason; one row per distinct raw text, so re-reading a page adds nothing.
 */
export const fileQuarantine = pgTable(
  "file_quarantine",
  {
    projectKey: projectKey(),
    /** SHA-256 of `raw`: the same bad record seen again is the same row. */
    rawSha256: text("raw_sha256").notNull(),
    /** Null when the record carries no readable uuid. */
    fileUuid: uuid("file_uuid"),
    /** Where it came from: `list`, `file_info`, `webhook`. */
    source: text("source").notNull(),
    /** `stored_escaped`: the file row holds a documented substitute; `set_aside`: no row was written from it. */
    disposition: text("disposition").notNull(),
    reason: text("reason").notNull(),
    raw: text("raw").notNull(),
    runId: text("run_id"),
    firstSeenAt: microTimestamp("first_seen_at").notNull(),
    lastSeenAt: microTimestamp("last_seen_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "file_quarantine_pkey", columns: [t.projectKey, t.rawSha256] }),
    index("file_quarantine_recent_idx").on(t.projectKey, t.lastSeenAt),
    index("file_quarantine_file_idx").on(t.projectKey, t.fileUuid),
  ],
);

/**
 * API-log batches already ingested, so a retried batch (same body, or the same
 * `Idempotency-Key`) adds nothing and answers what the first one did.
 */
export const apiLogBatches = pgTable(
  "api_log_batches",
  {
    projectKey: projectKey(),
    bodySha256: text("body_sha256").notNull(),
    idempotencyKey: text("idempotency_key"),
    receivedAt: microTimestamp("received_at").notNull(),
    /** The answer the first ingest gave, repeated to a retry. */
    result: jsonb("result").$type<Record<string, unknown>>().notNull(),
  },
  (t) => [
    primaryKey({ name: "api_log_batches_pkey", columns: [t.projectKey, t.bodySha256] }),
    uniqueIndex("api_log_batches_key_idx").on(t.projectKey, t.idempotencyKey),
  ],
);
