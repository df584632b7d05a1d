import { sql, type SQL } from "drizzle-orm";
import type { Db, Queryable } from "../client.ts";
import { NotFoundError } from "../../errors.ts";
import { execute, queryRows } from "../query.ts";

/**
 * The daily file rollup behind `reporting.fct_daily_files_v2` and
 * `fct_daily_files`: per project and UTC day, uploads, stores and removals with
 * their bytes. A store counts on the day of the store time the ledger kept,
 * which a deletion does not clear (Uploadcare clears `datetime_stored`,
 * `last_stored_at` keeps it), so a day's stores stay as they were;
 * `fct_daily_files` takes deleted files away again, as it always counted
 * (migration 0018). A refresh recomputes from
 * `files` only the days that changed since the last one, found through the
 * audit trail: every change to a file is an event, and an event's before and
 * after values name the days it moved a file from and to. The trail is
 * append-only and hash-chained with gap-free sequence numbers, so "events
 * after the last one read" is exact.
 *
 * Everything is recomputed from `files`, never added up from deltas, so a
 * refresh is idempotent and `since`/`full` heal anything written without events
 * (bulk loads, hand repairs).
 */

export interface RefreshOptions {
  /** Also recompute every day from this date (YYYY-MM-DD, UTC) on. */
  since?: string | undefined;
  /** Rebuild the project's whole rollup (also what the first refresh does). */
  full?: boolean | undefined;
  now?: Date | undefined;
}

export interface RollupRefresh {
  projectKey: string;
  mode: "full" | "since" | "touched" | "unchanged";
  /** Days recomputed one by one (the touched days; 0 for a range rebuild alone). */
  days: number;
  /** The last audit event the rollup now reflects. */
  lastEventSeq: number;
}

/** UTC day boundaries, written so the comparison can use an index on the timestamp. */
const dayStart = (day: SQL) => sql`((${day})::timestamp at time zone 'UTC')`;

/**
 * Brings one project's rollup up to date. Call it after every files sync (and
 * anything else that writes `files`); concurrent calls for one project queue on
 * the project's state row, so several instances may call it at once.
 */
export async function refreshDailyRollup(db: Db, projectKey: string, options: RefreshOptions = {}): Promise<RollupRefresh> {
  const now = (options.now ?? new Date()).toISOString();
  return db.transaction(async (tx) => {
    const known = await queryRows(tx, sql`select 1 from projects where project_key = ${projectKey}`);
    if (known.length === 0) throw new NotFoundError("project", projectKey);
    const created = await queryRows<{ created: boolean }>(
      tx,
      sql`insert into daily_file_rollup_state (project_key, last_event_seq, refreshed_at)
          values (${projectKey}, 0, ${now}::timestamptz) on conflict do nothing returning true as created`,
    );
    const [state] = await queryRows<{ last_event_seq: number }>(
      tx,
      sql`select last_event_seq from daily_file_rollup_state where project_key = ${projectKey} for update`,
    );
    const [head] = await queryRows<{ seq: number }>(
      tx,
      sql`select coalesce(max(seq), 0)::bigint as seq from file_events where project_key = ${projectKey}`,
    );
    const lastSeq = Number(state?.last_event_seq ?? 0);
    const headSeq = Number(head?.seq ?? 0);

    let mode: RollupRefresh["mode"] = "unchanged";
    let days = 0;
    if (options.full || created.length > 0) {
      await rebuildFrom(tx, projectKey, null, now);
      mode = "full";
    } else {
      if (options.since !== undefined) {
        await rebuildFrom(tx, projectKey, options.since, now);
        mode = "since";
      }
      if (headSeq > lastSeq) {
        const touched = await touchedDays(tx, projectKey, lastSeq, headSeq);
        const before = options.since;
        const left = before === undefined ? touched : touched.filter((d) => d < before);
        if (left.length > 0) await rebuildDays(tx, projectKey, left, now);
        days = left.length;
        if (mode === "unchanged") mode = "touched";
      }
    }
    await tx.execute(
      sql`update daily_file_rollup_state set last_event_seq = ${headSeq}, refreshed_at = ${now}::timestamptz where project_key = ${projectKey}`,
    );
    return { projectKey, mode, days, lastEventSeq: headSeq };
  });
}

/** Refreshes every project with a row in `projects`. */
export async function refreshAllDailyRollups(db: Db, options: RefreshOptions = {}): Promise<RollupRefresh[]> {
  const projects = await queryRows<{ project_key: string }>(db, sql`select project_key from projects order by project_key`);
  const out: RollupRefresh[] = [];
  for (const p of projects) out.push(await refreshDailyRollup(db, p.project_key, options));
  return out;
}

/**
 * The UTC days events (after, upTo] moved files on: every upload, store and
 * removal time in their before and after values, plus, when a size changed,
 * every day the file counts on.
 */
async function touchedDays(tx: Queryable, projectKey: string, after: number, upTo: number): Promise<string[]> {
  const rows = await queryRows<{ day: string }>(
    tx,
    sql`with ev as (
          select e.file_uuid, e.kind, e.before, e.after from file_events e
          where e.project_key = ${projectKey} and e.seq > ${after} and e.seq <= ${upTo} and e.file_uuid is not null
        ), stamps as (
          select x.v from ev cross join lateral (values
            (ev.before ->> 'datetime_uploaded'), (ev.before ->> 'datetime_stored'), (ev.before ->> 'datetime_removed'),
            (ev.after ->> 'datetime_uploaded'), (ev.after ->> 'datetime_stored'), (ev.after ->> 'datetime_removed')) x(v)
          union all
          select x.v from ev
          join files f on f.project_key = ${projectKey} and f.uuid = ev.file_uuid
          cross join lateral (values (f.datetime_uploaded::text), (${KEPT_STORED_AT}::text), (f.datetime_removed::text)) x(v)
          where ev.kind <> 'uploaded' and (ev.before ? 'size' or ev.after ? 'size')
        )
        select distinct (v::timestamptz at time zone 'UTC')::date::text as day from stamps where v is not null order by 1`,
  );
  return rows.map((r) => r.day);
}

/**
 * A file's store time as the ledger last saw it, kept after deletion. Written as the
 * expression index files_kept_stored_at_idx (migration 0018), so day ranges on it use it.
 */
const KEPT_STORED_AT = sql`coalesce(f.datetime_stored, f.last_stored_at)`;

/** The three counted moments of a file, as (timestamp, which) rows for one aggregate. */
const MEASURES = sql`(values (f.datetime_uploaded, 'u'), (${KEPT_STORED_AT}, 's'), (f.datetime_removed, 'r')) m(at, what)`;

const AGGREGATES = sql`
  count(*) filter (where m.what = 'u')::int,
  coalesce(sum(f.size) filter (where m.what = 'u'), 0)::bigint,
  count(*) filter (where m.what = 's')::int,
  coalesce(sum(f.size) filter (where m.what = 's'), 0)::bigint,
  count(*) filter (where m.what = 'r')::int,
  coalesce(sum(f.size) filter (where m.what = 'r'), 0)::bigint`;

const COLUMNS = sql`(project_key, day, uploads, bytes_uploaded, stored, bytes_stored, removed, bytes_removed, refreshed_at)`;

/** Recomputes every day from `from` (or all days) in one pass over the files concerned. */
async function rebuildFrom(tx: Queryable, projectKey: string, from: string | null, now: string): Promise<void> {
  const since = from === null ? null : dayStart(sql`${from}::date`);
  await tx.execute(
    sql`delete from daily_file_rollup where project_key = ${projectKey}${from === null ? sql`` : sql` and day >= ${from}::date`}`,
  );
  // With a start day the three OR-ed ranges read the files indexes on each timestamp.
  const filter =
    since === null
      ? sql``
      : sql` and (f.datetime_uploaded >= ${since} or ${KEPT_STORED_AT} >= ${since} or f.datetime_removed >= ${since})`;
  await tx.execute(
    sql`insert into daily_file_rollup ${COLUMNS}
        select ${projectKey}, (m.at at time zone 'UTC')::date, ${AGGREGATES}, ${now}::timestamptz
        from files f cross join lateral ${MEASURES}
        where f.project_key = ${projectKey}${filter} and m.at is not null${since === null ? sql`` : sql` and m.at >= ${since}`}
        group by 2`,
  );
}

/** Recomputes the given days, each through index range reads on the three timestamps. */
async function rebuildDays(tx: Queryable, projectKey: string, days: string[], now: string): Promise<void> {
  const list = sql`${sql.param(days)}::date[]`;
  await execute(tx, sql`delete from daily_file_rollup where project_key = ${projectKey} and day = any(${list})`);
  const range = (column: SQL) =>
    sql`f.project_key = ${projectKey} and ${column} >= ${dayStart(sql`d.day`)} and ${column} < ${dayStart(sql`d.day + 1`)}`;
  await tx.execute(
    sql`insert into daily_file_rollup ${COLUMNS}
        select ${projectKey}, d.day, u.n, u.b, s.n, s.b, r.n, r.b, ${now}::timestamptz
        from unnest(${list}) d(day)
        cross join lateral (select count(*)::int n, coalesce(sum(f.size), 0)::bigint b from files f where ${range(sql`f.datetime_uploaded`)}) u
        cross join lateral (select count(*)::int n, coalesce(sum(f.size), 0)::bigint b from files f where ${range(KEPT_STORED_AT)}) s
        cross join lateral (select count(*)::int n, coalesce(sum(f.size), 0)::bigint b from files f where ${range(sql`f.datetime_removed`)}) r
        where u.n + s.n + r.n > 0`,
  );
}
