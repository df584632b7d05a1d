import { sql } from "drizzle-orm";
import { boolean, index, integer, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";
import { projects } from "./projects.ts";

/**
 * References: what the application's own data points at. Each named source
 * (`app-db`, `cms`) holds a set of (ref, file) pairs that a full snapshot
 * replaces or single writes edit; see docs/references.md.
 */

export const REFERENCE_SOURCE_KINDS = ["push", "pull"] as const;
export type ReferenceSourceKind = (typeof REFERENCE_SOURCE_KINDS)[number];

/** replace: a whole set (PUT or a pull run); add / remove: one reference (POST / DELETE). */
export const REFERENCE_SNAPSHOT_KINDS = ["replace", "add", "remove"] as const;
export type ReferenceSnapshotKind = (typeof REFERENCE_SNAPSHOT_KINDS)[number];

/** One per source and project. A pull source gets its row at its first run, even a failed one. */
export const referenceSources = pgTable(
  "reference_sources",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    source: text("source").notNull(),
    kind: text("kind").$type<ReferenceSourceKind>().notNull(),
    /** Not reported for longer than this: stale, and its silence never makes an orphan. */
    staleAfterHours: integer("stale_after_hours").notNull(),
    /** The first accepted write; files count as unreferenced only from every source's first report on. */
    firstReportedAt: microTimestamp("first_reported_at"),
    /** The last accepted write (a replacement, an add or a remove). Null: never reported, so stale. */
    lastReportedAt: microTimestamp("last_reported_at"),
    /** References in the current set. */
    refs: integer("refs").notNull().default(0),
    lastSnapshotId: uuid("last_snapshot_id"),
    /** Why the last pull failed (no secret in it); null after a good one. */
    lastError: text("last_error"),
    createdAt: microTimestamp("created_at").notNull(),
  },
  (t) => [primaryKey({ name: "reference_sources_pkey", columns: [t.projectKey, t.source] })],
);

/** The current set of every source: one row per (ref, file) pair. Values that name no file are not kept. */
export const fileReferences = pgTable(
  "file_references",
  {
    projectKey: projectKey(),
    source: text("source").notNull(),
    ref: text("ref").notNull(),
    /** The file the value names; it may not be in the ledger (yet). */
    fileUuid: uuid("file_uuid").notNull(),
    /** The value as the source sent it (a UUID or a CDN URL). */
    value: text("value").notNull(),
    addedAt: microTimestamp("added_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "file_references_pkey", columns: [t.projectKey, t.source, t.ref, t.fileUuid] }),
    // A file's references, and "is this file referenced at all", per request and per plan item.
    index("file_references_file_idx").on(t.projectKey, t.fileUuid),
  ],
);

/**
 * Per file ever referenced: whether it is now and since when it is or is not.
 * Written in the transaction that changes its references, so the moment a
 * file lost its last reference is exact. Files never referenced have no row.
 */
export const fileReferenceState = pgTable(
  "file_reference_state",
  {
    projectKey: projectKey(),
    fileUuid: uuid("file_uuid").notNull(),
    referenced: boolean("referenced").notNull(),
    referencedSince: microTimestamp("referenced_since"),
    /** Set when the last reference went away; null while referenced. */
    unreferencedSince: microTimestamp("unreferenced_since"),
  },
  (t) => [
    primaryKey({ name: "file_reference_state_pkey", columns: [t.projectKey, t.fileUuid] }),
    // Partial: the files that lost their references, by when, for the orphan counts.
    index("file_reference_state_unreferenced_idx")
      .on(t.projectKey, t.unreferencedSince)
      .where(sql`NOT ${t.referenced}`),
  ],
);

/** Every write to a source, accepted or refused: when, how big, what changed. */
export const referenceSnapshots = pgTable(
  "reference_snapshots",
  {
    projectKey: projectKey(),
    id: uuid("id").notNull(),
    source: text("source").notNull(),
    kind: text("kind").$type<ReferenceSnapshotKind>().notNull(),
    /** applied, or refused (a replacement dropping too much); a refused one changed nothing. */
    status: text("status").$type<"applied" | "refused">().notNull(),
    takenAt: microTimestamp("taken_at").notNull(),
    /** References in the set after the write (for a refused one: in the set sent). */
    size: integer("size").notNull(),
    previousSize: integer("previous_size").notNull(),
    added: integer("added").notNull(),
    removed: integer("removed").notNull(),
    /** Values that name no file (not a UUID, not a CDN URL): counted, not kept. */
    unresolved: integer("unresolved").notNull(),
    /** References to a UUID the ledger has no file for (yet). */
    unknownFiles: integer("unknown_files").notNull(),
    forced: boolean("forced").notNull().default(false),
    actor: text("actor").notNull(),
    message: text("message"),
  },
  (t) => [
    primaryKey({ name: "reference_snapshots_pkey", columns: [t.projectKey, t.id] }),
    index("reference_snapshots_source_idx").on(t.projectKey, t.source, t.takenAt, t.id),
  ],
);

/**
 * A replacement's incoming set, written as the body streams in and compared
 * with the current set in one transaction at the end; rows of an upload are
 * deleted when it finishes, and leftovers of a crashed one after a day.
 */
export const referenceStaging = pgTable(
  "reference_staging",
  {
    projectKey: projectKey(),
    uploadId: uuid("upload_id").notNull(),
    ref: text("ref").notNull(),
    fileUuid: uuid("file_uuid").notNull(),
    value: text("value").notNull(),
    stagedAt: microTimestamp("staged_at").notNull(),
  },
  (t) => [
    // File before ref: the replacement also asks "is this file in the new set at all".
    primaryKey({ name: "reference_staging_pkey", columns: [t.projectKey, t.uploadId, t.fileUuid, t.ref] }),
  ],
);

export type ReferenceSource = typeof referenceSources.$inferSelect;
