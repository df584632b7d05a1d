import { sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { queryRows } from "../../db/query.ts";
import { referenceScope, statusColumns } from "../../db/queries/reference-status.ts";
import { canonicalTimestamp, canonicalTimestampOrNull } from "../../db/timestamps.ts";
import type { WeekPeriod } from "./period.ts";
import type { OrphanRows } from "./rows.ts";

const num = (value: unknown) => Number(value ?? 0);

/**
 * The orphans section's rows: live files nothing references, as of the read
 * (file_reference_state keeps no history, so unlike the week's flows these
 * are not as of the week's end), and each source's snapshots in both weeks.
 * Null when the project has no reference source.
 */
export async function readOrphanRows(db: Queryable, input: { projectKey: string; current: WeekPeriod; previous: WeekPeriod }): Promise<OrphanRows | null> {
  const { projectKey, current, previous } = input;
  const sources = await queryRows<Record<string, unknown>>(
    db,
    sql`select s.source, s.kind, s.refs, s.stale_after_hours, s.last_reported_at::text as last_reported_at,
          (s.last_reported_at is null or s.last_reported_at < now() - s.stale_after_hours * interval '1 hour') as stale,
          count(n.id) filter (where n.status = 'applied' and n.taken_at >= ${current.start}::timestamptz) as applied_current,
          count(n.id) filter (where n.status = 'applied' and n.taken_at < ${current.start}::timestamptz) as applied_previous,
          count(n.id) filter (where n.status = 'refused' and n.taken_at >= ${current.start}::timestamptz) as refused_current,
          count(n.id) filter (where n.status = 'refused' and n.taken_at < ${current.start}::timestamptz) as refused_previous
        from reference_sources s
        left join reference_snapshots n on n.project_key = s.project_key and n.source = s.source
          and n.taken_at >= ${previous.start}::timestamptz and n.taken_at < ${current.end}::timestamptz
        where s.project_key = ${projectKey}
        group by s.source, s.kind, s.refs, s.stale_after_hours, s.last_reported_at
        order by s.source collate "C"`,
  );
  if (sources.length === 0) return null;

  const status = statusColumns("p", "s", sql`f.datetime_uploaded`);
  // One pass over the project's live files, every figure a FILTER of it.
  const orphan = sql`st.is_referenced = false`;
  const old = (days: number) => sql`${orphan} and st.unreferenced_since <= now() - ${days} * interval '1 day'`;
  const fresh = sql`${orphan} and st.unreferenced_since >= ${current.start}::timestamptz and st.unreferenced_since < ${current.end}::timestamptz`;
  const [totals] = await queryRows<Record<string, unknown>>(
    db,
    sql`select now()::text as as_of,
          count(*) filter (where ${orphan}) as files, coalesce(sum(st.size) filter (where ${orphan}), 0) as bytes,
          count(*) filter (where ${old(30)}) as files_30, coalesce(sum(st.size) filter (where ${old(30)}), 0) as bytes_30,
          count(*) filter (where ${old(90)}) as files_90, coalesce(sum(st.size) filter (where ${old(90)}), 0) as bytes_90,
          count(*) filter (where ${fresh}) as files_new, coalesce(sum(st.size) filter (where ${fresh}), 0) as bytes_new,
          count(*) filter (where st.held) as held
        from (
          select f.size, ${status.isReferenced} as is_referenced, ${status.unreferencedSince} as unreferenced_since, ${status.heldByStale} as held
          from files f
          cross join (${referenceScope(sql`${projectKey}`, sql`now()`)}) p
          left join file_reference_state s on s.project_key = f.project_key and s.file_uuid = f.uuid
          where f.project_key = ${projectKey} and f.datetime_removed is null and f.missing_since is null
        ) st`,
  );
  const t = totals!;
  return {
    asOf: canonicalTimestamp(String(t["as_of"])),
    orphans: { count: num(t["files"]), bytes: num(t["bytes"]) },
    over30Days: { count: num(t["files_30"]), bytes: num(t["bytes_30"]) },
    over90Days: { count: num(t["files_90"]), bytes: num(t["bytes_90"]) },
    newThisWeek: { count: num(t["files_new"]), bytes: num(t["bytes_new"]) },
    heldByStale: num(t["held"]),
    sources: sources.map((r) => ({
      source: String(r["source"]),
      kind: String(r["kind"]),
      refs: num(r["refs"]),
      staleAfterHours: num(r["stale_after_hours"]),
      lastReportedAt: canonicalTimestampOrNull(r["last_reported_at"] as string | null),
      stale: Boolean(r["stale"]),
      applied: { current: num(r["applied_current"]), previous: num(r["applied_previous"]) },
      refused: { current: num(r["refused_current"]), previous: num(r["refused_previous"]) },
    })),
  };
}
