import { bigint, index, jsonb, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";
import { projects } from "./projects.ts";

export const EVENT_KINDS = [
  "uploaded",
  "stored",
  "removed",
  "metadata_changed",
  "appdata_changed",
  "changed",
  "missing",
  "reappeared",
  "action",
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const EVENT_SOURCES = ["sync", "webhook", "reconcile", "action"] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];

/**
 * The audit trail: one row per observed change. Append-only (a trigger refuses
 * UPDATE, DELETE and TRUNCATE) and hash-chained per project in `seq` order.
 */
export const fileEvents = pgTable(
  "file_events",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    /** Position in the project's chain: 1, 2, 3, … with no gaps. */
    seq: bigint("seq", { mode: "number" }).notNull(),
    /** Null for project-level actions (for example installing webhooks). */
    fileUuid: uuid("file_uuid"),
    kind: text("kind").$type<EventKind>().notNull(),
    before: jsonb("before").$type<Record<string, unknown>>(),
    after: jsonb("after").$type<Record<string, unknown>>(),
    /** When it happened upstream, when Uploadcare says so. */
    occurredAt: microTimestamp("occurred_at"),
    observedAt: microTimestamp("observed_at").notNull(),
    source: text("source").$type<EventSource>().notNull(),
    runId: text("run_id"),
    planId: text("plan_id"),
    actor: text("actor").notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    primaryKey({ name: "file_events_pkey", columns: [t.projectKey, t.seq] }),
    index("file_events_file_idx").on(t.projectKey, t.fileUuid, t.seq),
    // The API's audit feed pages by (observed_at, seq) within a project.
    index("file_events_observed_idx").on(t.projectKey, t.observedAt, t.seq),
  ],
);

/** The head of each project's chain: the writer that holds this row's lock appends next. */
export const auditChainHeads = pgTable("audit_chain_heads", {
  projectKey: text("project_key")
    .primaryKey()
    .references(() => projects.projectKey),
  lastSeq: bigint("last_seq", { mode: "number" }).notNull(),
  lastHash: text("last_hash").notNull(),
});

export type FileEvent = typeof fileEvents.$inferSelect;
