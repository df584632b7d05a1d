import { bigint, index, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";
import { projects } from "./projects.ts";

/**
 * Originals and the versions made of them (`POST /files/local_copy/` by a
 * version plan). Keyed by the copy: a copy is the version of one original,
 * and the key makes recording the same copy twice (a rerun after a crash)
 * impossible. Rows are never deleted: deleting the original later keeps
 * the link, so the copy still says where it came from.
 */
export const fileVersions = pgTable(
  "file_versions",
  {
    projectKey: projectKey().references(() => projects.projectKey),
    copyUuid: uuid("copy_uuid").notNull(),
    originalUuid: uuid("original_uuid").notNull(),
    /** The plan that made the copy. */
    planId: uuid("plan_id").notNull(),
    /** CDN operations baked into the copy, e.g. `-/format/webp/-/quality/smart/`; "" for a plain copy. */
    operations: text("operations").notNull(),
    /** Bytes of the original when copied, and of the copy once Uploadcare confirmed it. */
    originalSize: bigint("original_size", { mode: "number" }).notNull(),
    copySize: bigint("copy_size", { mode: "number" }).notNull(),
    createdAt: microTimestamp("created_at").notNull(),
  },
  (t) => [
    primaryKey({ name: "file_versions_pkey", columns: [t.projectKey, t.copyUuid] }),
    // The file page lists an original's versions.
    index("file_versions_original_idx").on(t.projectKey, t.originalUuid),
  ],
);

export type FileVersionRow = typeof fileVersions.$inferSelect;
