import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { isoColumn } from "./iso.ts";
import { countRows, pageAcrossProjects, type CountMode, type KeysetOrder, type KeysetPosition, type Total } from "./keyset.ts";

/**
 * The read side of `file_quarantine`: upstream records the sync could not store
 * as sent (the sync writes them; see src/db/schema/quarantine.ts).
 */

/** `stored_escaped`: the file row holds a documented substitute; `set_aside`: no row was written from it. */
export const QUARANTINE_DISPOSITIONS = ["set_aside", "stored_escaped"] as const;
export const QUARANTINE_SOURCES = ["list", "file_info", "webhook"] as const;

export interface QuarantineFilter {
  projects: string[];
  dispositions?: string[] | undefined;
  sources?: string[] | undefined;
  fileUuid?: string | undefined;
}

export interface QuarantineEntry {
  projectKey: string;
  rawSha256: string;
  fileUuid: string | null;
  source: string;
  disposition: string;
  reason: string;
  /** The record exactly as received, as text: JSON escapes such as `\u0000` stay escapes. */
  raw: string;
  runId: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
}

interface QuarantineRow {
  project_key: string;
  raw_sha256: string;
  file_uuid: string | null;
  source: string;
  disposition: string;
  reason: string;
  raw: string;
  run_id: string | null;
  first_seen_at: string;
  last_seen_at: string;
}

const COLUMNS = sql.raw(`project_key, raw_sha256, file_uuid::text as file_uuid, source, disposition, reason, raw, run_id,
  ${isoColumn("first_seen_at")}, ${isoColumn("last_seen_at")}`);

/** Most recently seen first: what Uploadcare still sends comes before what it stopped sending. */
export const QUARANTINE_ORDER: KeysetOrder = {
  lead: [{ expr: sql`file_quarantine.last_seen_at`, cast: "timestamptz", field: "last_seen_at" }],
  tie: { expr: sql`file_quarantine.raw_sha256`, cast: "text", field: "raw_sha256" },
  direction: "desc",
};

function conditions(filter: QuarantineFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.dispositions?.length) where.push(sql`disposition = any(${sql.param(filter.dispositions)}::text[])`);
  if (filter.sources?.length) where.push(sql`source = any(${sql.param(filter.sources)}::text[])`);
  if (filter.fileUuid !== undefined) where.push(sql`file_uuid = ${filter.fileUuid}::uuid`);
  return where;
}

function toEntry(r: QuarantineRow): QuarantineEntry {
  return {
    projectKey: r.project_key,
    rawSha256: r.raw_sha256,
    fileUuid: r.file_uuid,
    source: r.source,
    disposition: r.disposition,
    reason: r.reason,
    raw: r.raw,
    runId: r.run_id,
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
  };
}

export async function listQuarantine(
  db: Queryable,
  query: { filter: QuarantineFilter; after: KeysetPosition | null; limit: number },
): Promise<{ items: QuarantineEntry[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<QuarantineRow & Record<string, unknown>>(db, {
    columns: COLUMNS,
    from: sql`file_quarantine`,
    where: conditions(query.filter),
    order: QUARANTINE_ORDER,
    projects: query.filter.projects,
    after: query.after,
    limit: query.limit,
  });
  return { items: page.rows.map(toEntry), next: page.next };
}

export async function countQuarantine(db: Queryable, filter: QuarantineFilter, mode: CountMode): Promise<Total> {
  return countRows(db, {
    from: sql`file_quarantine`,
    where: [sql`project_key = any(${sql.param(filter.projects)}::text[])`, ...conditions(filter)],
    mode,
  });
}

export interface QuarantineCount {
  projectKey: string;
  disposition: string;
  count: number;
}

/**
 * Records per project and disposition, zeros included for every known project,
 * so a gauge reads 0 rather than vanishing while nothing is quarantined.
 */
export async function quarantineCounts(db: Queryable): Promise<QuarantineCount[]> {
  const rows = await queryRows<{ project_key: string; disposition: string; n: number | string }>(
    db,
    sql`with counted as (select project_key, disposition, count(*) as n from file_quarantine group by project_key, disposition),
          expected as (select project_key, d.disposition from projects
                       cross join unnest(${sql.param([...QUARANTINE_DISPOSITIONS])}::text[]) as d(disposition))
        select coalesce(c.project_key, e.project_key) as project_key, coalesce(c.disposition, e.disposition) as disposition, coalesce(c.n, 0) as n
        from counted c full join expected e on e.project_key = c.project_key and e.disposition = c.disposition
        order by 1, 2`,
  );
  return rows.map((r) => ({ projectKey: r.project_key, disposition: r.disposition, count: Number(r.n) }));
}
