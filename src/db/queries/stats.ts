import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";

export interface Tally {
  count: number;
  bytes: number;
}

export interface ProjectStats {
  projectKey: string;
  files: Tally;
  /**
   * stored: stored and not removed; unstored: neither (temporary uploads);
   * removed: removed. These three partition the files. missing: no longer
   * listed by Uploadcare (overlaps the others).
   */
  byState: { stored: Tally; unstored: Tally; removed: Tally; missing: Tally };
  byMimeType: (Tally & { mimeType: string })[];
  uploadsPerDay: (Tally & { date: string })[];
}

interface StateRow {
  project_key: string;
  mime_type: string | null;
  n: number | string;
  bytes: number | string | null;
  stored_n: number | string;
  stored_bytes: number | string | null;
  unstored_n: number | string;
  unstored_bytes: number | string | null;
  removed_n: number | string;
  removed_bytes: number | string | null;
  missing_n: number | string;
  missing_bytes: number | string | null;
}

const tally = (n: number | string, bytes: number | string | null): Tally => ({ count: Number(n), bytes: Number(bytes ?? 0) });

/**
 * Counts and bytes by state and by MIME type (one pass over the project's files,
 * with grouping sets), and uploads per UTC day from `from` to `to`, both included.
 */
export async function fileStats(
  db: Queryable,
  query: { projects: string[]; from: string; to: string },
): Promise<ProjectStats[]> {
  const byProject = new Map<string, ProjectStats>();
  for (const projectKey of query.projects) {
    const empty = { count: 0, bytes: 0 };
    byProject.set(projectKey, {
      projectKey,
      files: { ...empty },
      byState: { stored: { ...empty }, unstored: { ...empty }, removed: { ...empty }, missing: { ...empty } },
      byMimeType: [],
      uploadsPerDay: [],
    });
  }
  if (byProject.size === 0) return [];
  const projects = sql.param([...byProject.keys()]);

  const states = await queryRows<StateRow>(db, sql`
    select project_key, mime_type, count(*) as n, sum(size) as bytes,
      count(*) filter (where datetime_stored is not null and datetime_removed is null) as stored_n,
      sum(size) filter (where datetime_stored is not null and datetime_removed is null) as stored_bytes,
      count(*) filter (where datetime_stored is null and datetime_removed is null) as unstored_n,
      sum(size) filter (where datetime_stored is null and datetime_removed is null) as unstored_bytes,
      count(*) filter (where datetime_removed is not null) as removed_n,
      sum(size) filter (where datetime_removed is not null) as removed_bytes,
      count(*) filter (where missing_since is not null) as missing_n,
      sum(size) filter (where missing_since is not null) as missing_bytes
    from files where project_key = any(${projects}::text[])
    group by grouping sets ((project_key), (project_key, mime_type))`);
  for (const row of states) {
    const stats = byProject.get(row.project_key)!;
    if (row.mime_type === null) {
      stats.files = tally(row.n, row.bytes);
      stats.byState = {
        stored: tally(row.stored_n, row.stored_bytes),
        unstored: tally(row.unstored_n, row.unstored_bytes),
        removed: tally(row.removed_n, row.removed_bytes),
        missing: tally(row.missing_n, row.missing_bytes),
      };
    } else {
      stats.byMimeType.push({ mimeType: row.mime_type, ...tally(row.n, row.bytes) });
    }
  }
  for (const stats of byProject.values()) {
    stats.byMimeType.sort((a, b) => b.count - a.count || (a.mimeType < b.mimeType ? -1 : 1));
  }

  const days = await queryRows<{ project_key: string; day: string; n: number | string; bytes: number | string }>(db, sql`
    select project_key, (datetime_uploaded at time zone 'UTC')::date::text as day, count(*) as n, sum(size) as bytes
    from files
    where project_key = any(${projects}::text[])
      and datetime_uploaded >= ${query.from}::date::timestamp at time zone 'UTC'
      and datetime_uploaded < (${query.to}::date + 1)::timestamp at time zone 'UTC'
    group by 1, 2 order by 1, 2`);
  for (const row of days) byProject.get(row.project_key)!.uploadsPerDay.push({ date: row.day, ...tally(row.n, row.bytes) });
  return [...byProject.values()];
}
