import { integer, jsonb, pgTable, primaryKey, text, uuid, index } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";
import { projects } from "./projects.ts";

/** `abandoned`: the process running it died; the next run of the lane, or start-up, closes it. */
export const RUN_STATUSES = ["running", "ok", "failed", "rate_limited", "partial", "skipped", "abandoned"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One row per sync run of one stream and lane of one project. */
export const syncRuns = pgTable(
  "sync_runs",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    id: uuid("id").notNull(),
    /** What is synced: `files`, `usage`. */
    stream: text("stream").notNull(),
    /** How: `new`, `webhooks`, `reconcile`, `usage`. */
    lane: text("lane").notNull(),
    startedAt: microTimestamp("started_at").notNull(),
    finishedAt: microTimestamp("finished_at"),
    status: text("status").$type<RunStatus>().notNull(),
    pages: integer("pages").notNull().default(0),
    seen: integer("seen").notNull().default(0),
    inserted: integer("inserted").notNull().default(0),
    changed: integer("changed").notNull().default(0),
    /** Upstream records the run set aside in `file_quarantine` instead of storing them as sent. */
    quarantined: integer("quarantined").notNull().default(0),
    error: text("error"),
  },
  (t) => [
    primaryKey({ name: "sync_runs_pkey", columns: [t.projectKey, t.id] }),
    index("sync_runs_started_idx").on(t.projectKey, t.stream, t.startedAt),
    // The API lists runs newest first, any stream, keyset-paged by (started_at, id).
    index("sync_runs_recent_idx").on(t.projectKey, t.startedAt, t.id),
  ],
);

/**
 * Where each lane resumes. Written in the same transaction as the rows of the
 * page that moved it, so a crash loses nothing and duplicates nothing.
 */
export const syncCheckpoints = pgTable(
  "sync_checkpoints",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    stream: text("stream").notNull(),
    lane: text("lane").notNull(),
    cursor: jsonb("cursor").$type<Record<string, unknown>>().notNull(),
    updatedAt: microTimestamp("updated_at").notNull(),
  },
  (t) => [primaryKey({ name: "sync_checkpoints_pkey", columns: [t.projectKey, t.stream, t.lane] })],
);

/**
 * Webhook deliveries as received, before they are applied. The body hash makes a
 * redelivery of the same body a no-op.
 */
export const webhookInbox = pgTable(
  "webhook_inbox",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    bodySha256: text("body_sha256").notNull(),
    receivedAt: microTimestamp("received_at").notNull(),
    event: text("event").notNull(),
    fileUuid: uuid("file_uuid"),
    /** The parsed body; null when PostgreSQL cannot hold it as jsonb (a NUL, a lone surrogate). */
    body: jsonb("body").$type<Record<string, unknown>>(),
    /** The body exactly as received (JSON text; escapes such as \u0000 stay escapes). */
    rawBody: text("raw_body"),
    appliedAt: microTimestamp("applied_at"),
    /**
     * What applying did: `applied` (as sent), `reread` (the file was read again and
     * that answer applied), `stale` (older than the ledger), `unchanged`,
     * `set_aside` (cannot be applied; kept in file_quarantine), `not_found`
     * (re-read, and Uploadcare no longer knows the file).
     */
    outcome: text("outcome"),
  },
  (t) => [
    primaryKey({ name: "webhook_inbox_pkey", columns: [t.projectKey, t.bodySha256] }),
    index("webhook_inbox_pending_idx").on(t.projectKey, t.receivedAt),
  ],
);

/** Uuids listed during a reconciliation scan, so missing files are found without holding every uuid in memory. */
export const reconcileSeen = pgTable(
  "reconcile_seen",
  {
    projectKey: projectKey(),
    runId: uuid("run_id").notNull(),
    uuid: uuid("uuid").notNull(),
  },
  (t) => [primaryKey({ name: "reconcile_seen_pkey", columns: [t.projectKey, t.runId, t.uuid] })],
);

export type SyncRun = typeof syncRuns.$inferSelect;
