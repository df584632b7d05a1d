import { sql, type SQL } from "drizzle-orm";

/**
 * Whether a file is referenced, and since when it is not: the one definition
 * the files filter, the policy condition, the weekly report and the
 * `reporting.dim_file_v2` view (migration 0015, which must say the same) share.
 *
 * - A project with no reference source knows nothing: null, never an orphan.
 * - A file in any source's current set is referenced. A stale source keeps its
 *   last set, so everything it referenced still is.
 * - Otherwise the file is unreferenced since its last reference went away
 *   (`file_reference_state`), or since upload if it never had one, but never
 *   before every source of the project had reported at least once.
 * - A stale source (not reported within `stale_after_hours`, or never) has not
 *   seen what happened since its last report: a file unreferenced only since
 *   then still counts as referenced ("held" by that source). So a source that
 *   stops reporting never turns a file into an orphan.
 */

/** Per project: from when every source had reported, and the last report of its stalest source. */
export function referenceScope(projectKey: SQL, at: SQL): SQL {
  return sql`select rsrc.project_key,
      max(rsrc.first_reported_at) as tracked_since,
      min(coalesce(rsrc.last_reported_at, '-infinity'::timestamptz)) filter (
        where rsrc.last_reported_at is null or rsrc.last_reported_at < ${at} - rsrc.stale_after_hours * interval '1 hour') as stale_cutoff
    from reference_sources rsrc where rsrc.project_key = ${projectKey} group by rsrc.project_key`;
}

/**
 * The status columns over a scope row `p` (absent: no source) and a state row
 * `s` (absent: never referenced), for a file uploaded at `uploaded`.
 */
export function statusColumns(p: string, s: string, uploaded: SQL): { isReferenced: SQL; unreferencedSince: SQL; heldByStale: SQL } {
  const P = sql.raw(p);
  const S = sql.raw(s);
  const since = sql`greatest(coalesce(${S}.unreferenced_since, ${uploaded}), ${P}.tracked_since)`;
  const held = sql`(${since} > ${P}.stale_cutoff)`;
  const isReferenced = sql`(case when ${P}.project_key is null then null when ${S}.referenced then true when ${held} then true else false end)`;
  return {
    isReferenced,
    unreferencedSince: sql`(case when ${isReferenced} = false then ${since} end)`,
    heldByStale: sql`(${P}.project_key is not null and coalesce(${S}.referenced, false) = false and coalesce(${held}, false))`,
  };
}

/**
 * One row (or none, when the project has no source) with `is_referenced`,
 * `unreferenced_since` and `held_by_stale` for one file, to join laterally or
 * read as a scalar. `file` names the file's row alias (`f`, `files`).
 */
export function fileReferenceStatus(file: string, at: SQL): SQL {
  const F = sql.raw(file);
  const cols = statusColumns("rp", "rs", sql`${F}.datetime_uploaded`);
  return sql`select ${cols.isReferenced} as is_referenced, ${cols.unreferencedSince} as unreferenced_since, ${cols.heldByStale} as held_by_stale
    from (${referenceScope(sql`${F}.project_key`, at)}) rp
    left join file_reference_state rs on rs.project_key = ${F}.project_key and rs.file_uuid = ${F}.uuid`;
}

/** True for files unreferenced at `at` for at least `days` days (0: unreferenced at all). */
export function unreferencedFor(file: string, at: SQL, days: number): SQL {
  return sql`exists (select 1 from (${fileReferenceStatus(file, at)}) st
    where st.is_referenced = false and st.unreferenced_since <= ${at} - ${days} * interval '1 day')`;
}

/** True for files that count as referenced at `at` (held by a stale source included). */
export function referencedAt(file: string, at: SQL): SQL {
  return sql`exists (select 1 from (${fileReferenceStatus(file, at)}) st where st.is_referenced)`;
}
