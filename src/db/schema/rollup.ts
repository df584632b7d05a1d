import { bigint, date, integer, pgTable, primaryKey, text } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";
import { projects } from "./projects.ts";

/**
 * Per project and UTC day, what happened to its files: the source of
 * `reporting.fct_daily_files`. Rebuilt from `files` for the days a refresh
 * finds touched (src/db/queries/rollup.ts), so a year of a million-file project
 * is a few hundred rows instead of a million-row aggregate. Days with nothing
 * on them have no row.
 */
export const dailyFileRollup = pgTable(
  "daily_file_rollup",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    day: date("day", { mode: "string" }).notNull(),
    /** Files uploaded that day, and their bytes. */
    uploads: integer("uploads").notNull(),
    bytesUploaded: bigint("bytes_uploaded", { mode: "number" }).notNull(),
    /**
     * Files whose store time, as the ledger last saw it, falls on the day: a file
     * deleted later still counts on the day it was stored (`last_stored_at`, 0018).
     */
    stored: integer("stored").notNull(),
    bytesStored: bigint("bytes_stored", { mode: "number" }).notNull(),
    /** Files removed that day. */
    removed: integer("removed").notNull(),
    bytesRemoved: bigint("bytes_removed", { mode: "number" }).notNull(),
    refreshedAt: microTimestamp("refreshed_at").notNull(),
  },
  (t) => [primaryKey({ name: "daily_file_rollup_pkey", columns: [t.projectKey, t.day] })],
);

/**
 * How far each project's rollup has read the audit trail: events after
 * `last_event_seq` name the days the next refresh recomputes.
 */
export const dailyFileRollupState = pgTable("daily_file_rollup_state", {
  projectKey: text("project_key")
    .primaryKey()
    .references(() => projects.projectKey),
  lastEventSeq: bigint("last_event_seq", { mode: "number" }).notNull(),
  refreshedAt: microTimestamp("refreshed_at").notNull(),
});

export type DailyFileRollup = typeof dailyFileRollup.$inferSelect;
