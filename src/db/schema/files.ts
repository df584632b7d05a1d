import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";
import { projects } from "./projects.ts";

/**
 * Current state of every Uploadcare file: the whole file object as last seen
 * (`data`, snake_case as the API sends it) plus typed columns for what people filter on.
 */
export const files = pgTable(
  "files",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    uuid: uuid("uuid").notNull(),
    datetimeUploaded: microTimestamp("datetime_uploaded").notNull(),
    datetimeStored: microTimestamp("datetime_stored"),
    datetimeRemoved: microTimestamp("datetime_removed"),
    size: bigint("size", { mode: "number" }).notNull(),
    mimeType: text("mime_type").notNull(),
    isImage: boolean("is_image"),
    isReady: boolean("is_ready"),
    originalFilename: text("original_filename").notNull(),
    originalFileUrl: text("original_file_url"),
    metadata: jsonb("metadata").$type<Record<string, string>>().notNull(),
    appdata: jsonb("appdata").$type<Record<string, unknown>>(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull(),
    /** Set when two reconciliation scans in a row did not list the file; rows are never hard-deleted. */
    missingSince: microTimestamp("missing_since"),
    /** Consecutive full scans that did not list the file. */
    missedScans: integer("missed_scans").notNull().default(0),
    /**
     * When the state this row holds was observed upstream: the start of the list
     * request or file read, or a webhook's receipt. A snapshot observed earlier
     * never overwrites it (Uploadcare sends no version to order by).
     */
    observedAt: microTimestamp("observed_at"),
    /**
     * The last store time the ledger observed. Uploadcare clears `datetime_stored`
     * on delete; this keeps it, so storage history stays right after a deletion.
     */
    lastStoredAt: microTimestamp("last_stored_at"),
    firstSeenAt: microTimestamp("first_seen_at").notNull(),
    updatedAt: microTimestamp("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "files_pkey", columns: [t.projectKey, t.uuid] }),
    // The default listing order, and the keyset cursor of the API.
    index("files_uploaded_idx").on(t.projectKey, t.datetimeUploaded, t.uuid),
    index("files_size_idx").on(t.projectKey, t.size, t.uuid),
    // Exact MIME type listings in upload order page through this index alone;
    // text_pattern_ops (byte order) also turns a prefix (`mime_type LIKE 'image/%'`) into a range.
    index("files_mime_idx").on(t.projectKey, t.mimeType.op("text_pattern_ops"), t.datetimeUploaded, t.uuid),
    index("files_metadata_gin").using("gin", sql`${t.metadata} jsonb_path_ops`),
    // Partial: removed and missing files are a small share of a project, and
    // listing or counting them would otherwise walk every file's index entry.
    index("files_removed_idx")
      .on(t.projectKey, t.datetimeUploaded, t.uuid)
      .where(sql`${t.datetimeRemoved} IS NOT NULL`),
    index("files_missing_idx")
      .on(t.projectKey, t.datetimeUploaded, t.uuid)
      .where(sql`${t.missingSince} IS NOT NULL`),
    // Declared in hand-written migrations, since drizzle cannot say them:
    // files_stats_idx (project_key, mime_type) INCLUDE (size, dates), 0011;
    // files_filename_trgm_idx, GIN trigrams of original_filename, 0013 (server only);
    // files_kept_stored_at_idx on (project_key, coalesce(datetime_stored, last_stored_at))
    // and files_cleared_store_idx (partial, deleted after a store), 0018.
    // Partial: unstored (temporary) files are few and expire within a day; the
    // API's `stored=false&removed=false` listing reads only this small index.
    index("files_unstored_idx")
      .on(t.projectKey, t.datetimeUploaded, t.uuid)
      .where(sql`${t.datetimeStored} IS NULL AND ${t.datetimeRemoved} IS NULL`),
  ],
);

export type FileRow = typeof files.$inferSelect;
