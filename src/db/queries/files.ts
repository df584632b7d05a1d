import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { isoColumn } from "./iso.ts";
import { countHonestly, type HonestTotal } from "./honest-count.ts";
import { pageAcrossProjects, type CountMode, type KeysetOrder, type KeysetPosition, type SortDirection } from "./keyset.ts";
import { likePattern, likePrefix } from "./like.ts";
import { fileReferenceStatus, referencedAt, unreferencedFor } from "./reference-status.ts";

export interface FileFilter {
  projects: string[];
  stored?: boolean | undefined;
  removed?: boolean | undefined;
  missing?: boolean | undefined;
  mimeType?: string | undefined;
  /** `image/` matches every image type. */
  mimePrefix?: string | undefined;
  sizeMin?: number | undefined;
  sizeMax?: number | undefined;
  /** Half-open: from ≤ datetime_uploaded < to. */
  uploadedFrom?: string | undefined;
  uploadedTo?: string | undefined;
  /** Every pair must be in the file's metadata. */
  metadata?: [string, string][] | undefined;
  /** Every key must be present in the file's appdata. */
  appdata?: string[] | undefined;
  /** Case-insensitive substring of the original filename. */
  filename?: string | undefined;
  /** true: the ClamAV add-on found the file infected; false: it did not say so (unscanned files included). */
  infected?: boolean | undefined;
  /** true: referenced (a stale source's hold included); false: unreferenced (docs/references.md). */
  referenced?: boolean | undefined;
  /** Unreferenced for at least this many days (implies referenced=false). */
  unreferencedForDays?: number | undefined;
  /** The moment references are judged at (staleness, days); default the database's now(). */
  referenceAt?: string | undefined;
}

export const FILE_SORTS = ["uploaded", "size"] as const;
export type FileSort = (typeof FILE_SORTS)[number];

/** A file as listed: everything but the raw Uploadcare object. */
export interface FileSummary {
  projectKey: string;
  uuid: string;
  datetimeUploaded: string;
  datetimeStored: string | null;
  datetimeRemoved: string | null;
  size: number;
  mimeType: string;
  isImage: boolean | null;
  isReady: boolean | null;
  originalFilename: string;
  originalFileUrl: string | null;
  metadata: Record<string, string>;
  appdata: Record<string, unknown> | null;
  missingSince: string | null;
  missedScans: number;
  firstSeenAt: string;
  updatedAt: string;
  /** Null while the project has no reference source. */
  referenced: boolean | null;
  unreferencedSince: string | null;
}

export interface FileDetail extends FileSummary {
  /** The whole file object as Uploadcare last sent it. */
  data: Record<string, unknown>;
}

interface FileRow {
  project_key: string;
  uuid: string;
  datetime_uploaded: string;
  datetime_stored: string | null;
  datetime_removed: string | null;
  size: number | string;
  mime_type: string;
  is_image: boolean | null;
  is_ready: boolean | null;
  original_filename: string;
  original_file_url: string | null;
  metadata: Record<string, string>;
  appdata: Record<string, unknown> | null;
  missing_since: string | null;
  missed_scans: number;
  first_seen_at: string;
  updated_at: string;
  referenced: boolean | null;
  unreferenced_since: string | null;
  data?: Record<string, unknown>;
}

const COLUMNS = sql.raw(`project_key, uuid::text as uuid, ${isoColumn("datetime_uploaded")},
  ${isoColumn("datetime_stored")}, ${isoColumn("datetime_removed")}, size, mime_type,
  is_image, is_ready, original_filename, original_file_url, metadata, appdata,
  ${isoColumn("missing_since")}, missed_scans, ${isoColumn("first_seen_at")}, ${isoColumn("updated_at")},
  rst.is_referenced as referenced, ${isoColumn("rst.unreferenced_since", "unreferenced_since")}`);

const referenceTime = (filter: Pick<FileFilter, "referenceAt">): SQL =>
  filter.referenceAt === undefined ? sql`now()` : sql`${filter.referenceAt}::timestamptz`;

/** `files` with each row's reference status beside it (a few index probes per row). */
function filesWithReferences(filter: Pick<FileFilter, "referenceAt">): SQL {
  return sql`files left join lateral (${fileReferenceStatus("files", referenceTime(filter))}) rst on true`;
}

export function fileOrder(sort: FileSort, direction: SortDirection): KeysetOrder {
  const lead =
    sort === "size"
      ? { expr: sql`files.size`, cast: "bigint" as const, field: "size" }
      : { expr: sql`files.datetime_uploaded`, cast: "timestamptz" as const, field: "datetime_uploaded" };
  return { lead: [lead], tie: { expr: sql`files.uuid`, cast: "uuid", field: "uuid" }, direction };
}

/**
 * Where the virus-scan add-on says a file is infected: the same test as the
 * policy condition `{kind: "appdata", path: "uc_clamav_virus_scan.data.infected",
 * op: "equals", value: true}` (the delete-infected template), so the files
 * list's filter and a plan agree on every file.
 */
export const INFECTED_PATH = "uc_clamav_virus_scan.data.infected";
const INFECTED = sql`coalesce((appdata #> ${sql.param(INFECTED_PATH.split("."))}::text[]) = 'true'::jsonb, false)`;

/** The filter as SQL conditions, project aside; each matches an index where one helps. */
function conditions(filter: FileFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.stored !== undefined) where.push(filter.stored ? sql`datetime_stored is not null` : sql`datetime_stored is null`);
  if (filter.removed !== undefined) where.push(filter.removed ? sql`datetime_removed is not null` : sql`datetime_removed is null`);
  if (filter.missing !== undefined) where.push(filter.missing ? sql`missing_since is not null` : sql`missing_since is null`);
  if (filter.mimeType !== undefined) where.push(sql`mime_type = ${filter.mimeType}`);
  // LIKE 'prefix%' is a range on files_mime_idx (text_pattern_ops), whatever the collation.
  if (filter.mimePrefix !== undefined) where.push(sql`mime_type like ${likePrefix(filter.mimePrefix)}`);
  if (filter.sizeMin !== undefined) where.push(sql`size >= ${filter.sizeMin}`);
  if (filter.sizeMax !== undefined) where.push(sql`size <= ${filter.sizeMax}`);
  if (filter.uploadedFrom !== undefined) where.push(sql`datetime_uploaded >= ${filter.uploadedFrom}::timestamptz`);
  if (filter.uploadedTo !== undefined) where.push(sql`datetime_uploaded < ${filter.uploadedTo}::timestamptz`);
  // Containment, so the GIN (jsonb_path_ops) index on metadata answers it.
  for (const [key, value] of filter.metadata ?? []) where.push(sql`metadata @> ${JSON.stringify({ [key]: value })}::jsonb`);
  for (const key of filter.appdata ?? []) where.push(sql`jsonb_exists(coalesce(appdata, '{}'::jsonb), ${key})`);
  if (filter.filename !== undefined) where.push(sql`original_filename ilike ${likePattern(filter.filename)}`);
  if (filter.infected !== undefined) where.push(filter.infected ? INFECTED : sql`not ${INFECTED}`);
  if (filter.referenced === true) where.push(referencedAt("files", referenceTime(filter)));
  if (filter.referenced === false || filter.unreferencedForDays !== undefined) {
    where.push(unreferencedFor("files", referenceTime(filter), filter.unreferencedForDays ?? 0));
  }
  return where;
}

export function toFileSummary(row: FileRow): FileSummary {
  return {
    projectKey: row.project_key,
    uuid: row.uuid,
    datetimeUploaded: row.datetime_uploaded,
    datetimeStored: row.datetime_stored,
    datetimeRemoved: row.datetime_removed,
    size: Number(row.size),
    mimeType: row.mime_type,
    isImage: row.is_image,
    isReady: row.is_ready,
    originalFilename: row.original_filename,
    originalFileUrl: row.original_file_url,
    metadata: row.metadata,
    appdata: row.appdata,
    missingSince: row.missing_since,
    missedScans: row.missed_scans,
    firstSeenAt: row.first_seen_at,
    updatedAt: row.updated_at,
    referenced: row.referenced,
    unreferencedSince: row.unreferenced_since,
  };
}

export async function listFiles(
  db: Queryable,
  query: { filter: FileFilter; sort: FileSort; direction: SortDirection; after: KeysetPosition | null; limit: number },
): Promise<{ items: FileSummary[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<FileRow & Record<string, unknown>>(db, {
    columns: COLUMNS,
    from: filesWithReferences(query.filter),
    where: conditions(query.filter),
    order: fileOrder(query.sort, query.direction),
    projects: query.filter.projects,
    after: query.after,
    limit: query.limit,
  });
  return { items: page.rows.map(toFileSummary), next: page.next };
}

export async function countFiles(db: Queryable, filter: FileFilter, mode: CountMode): Promise<HonestTotal> {
  return countHonestly(db, {
    from: sql`files`,
    where: [sql`project_key = any(${sql.param(filter.projects)}::text[])`, ...conditions(filter)],
    mode,
  });
}

/** Every copy of a uuid among the given projects (uuids are not promised unique across projects). */
export async function findFiles(db: Queryable, uuid: string, projects: string[]): Promise<FileDetail[]> {
  // project_key = any(…) keeps this on the primary key instead of a scan by uuid alone.
  const rows = await queryRows<FileRow>(db, sql`select ${COLUMNS}, data from ${filesWithReferences({})}
    where project_key = any(${sql.param(projects)}::text[]) and uuid = ${uuid}::uuid order by project_key`);
  return rows.map((row) => ({ ...toFileSummary(row), data: row.data ?? {} }));
}

/** The projects (among those given) that hold a file with this uuid. */
export async function projectsWithFile(db: Queryable, uuid: string, projects: string[]): Promise<string[]> {
  const rows = await queryRows<{ project_key: string }>(db, sql`select project_key from files
    where project_key = any(${sql.param(projects)}::text[]) and uuid = ${uuid}::uuid order by project_key`);
  return rows.map((r) => r.project_key);
}
