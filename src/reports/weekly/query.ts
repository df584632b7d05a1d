import { sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { queryRows } from "../../db/query.ts";
import { canonicalTimestamp, canonicalTimestampOrNull } from "../../db/timestamps.ts";
import type { WeekPeriod } from "./period.ts";
import { readOrphanRows } from "./orphans-query.ts";
import type { FileItem, Week, WeeklyRows } from "./rows.ts";

/** Lists in the report are short: a person reads them in an email. */
export const LARGEST_FILES_MAX = 10;
export const EXPIRING_FILES_MAX = 25;
/** Uploadcare removes an unstored file this long after upload. */
export const UNSTORED_TTL_MS = 24 * 60 * 60 * 1000;

/** 15-minute buckets from a fixed origin; see rows.ts for why. */
const bucket = (column: string) => sql.raw(`date_bin('15 minutes', ${column}, timestamptz '2000-01-01 00:00:00+00')::text`);

const num = (value: unknown) => Number(value ?? 0);

/**
 * When a file was stored, as the ledger last saw it. Uploadcare clears
 * `datetime_stored` when a file is deleted; `last_stored_at` keeps it (migration
 * 0016). Every store-time history below reads this, so a deletion removes a file
 * from storage when it happens, not from the weeks before it. Written exactly as
 * the expression index files_kept_stored_at_idx (migration 0018), so ranges on it use it.
 */
const STORED_AT = "coalesce(datetime_stored, last_stored_at)";
const storedAt = sql.raw(STORED_AT);

interface Bounds {
  /** Start of the previous week. */
  from: string;
  /** End of the previous week = start of the current one. */
  middle: string;
  /** End of the current week. */
  to: string;
}

/** Which week an expression's time falls in (only called on rows already inside [from, to)). */
const weekOf = (expr: string, b: Bounds) => sql`case when ${sql.raw(expr)} >= ${b.middle}::timestamptz then 'current' else 'previous' end`;

/** Everything the weekly report of `current` needs, for it and the week before. */
export async function readWeeklyRows(db: Queryable, input: { projectKey: string; current: WeekPeriod; previous: WeekPeriod }): Promise<WeeklyRows> {
  const { projectKey, current, previous } = input;
  const b: Bounds = { from: previous.start, middle: current.start, to: current.end };
  const inWindow = (expr: string) => sql`${sql.raw(expr)} >= ${b.from}::timestamptz and ${sql.raw(expr)} < ${b.to}::timestamptz`;

  const [project] = await queryRows<{ name: string }>(db, sql`select name from projects where project_key = ${projectKey}`);

  const uploads = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${bucket("datetime_uploaded")} as at, count(*) as count, coalesce(sum(size), 0) as bytes,
          count(*) filter (where ${storedAt} is null) as unstored_count,
          coalesce(sum(size) filter (where ${storedAt} is null), 0) as unstored_bytes
        from files where project_key = ${projectKey} and ${inWindow("datetime_uploaded")}
        group by 1 order by 1`,
  );

  const stores = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${bucket(STORED_AT)} as at, count(*) as count, coalesce(sum(size), 0) as bytes
        from files where project_key = ${projectKey} and ${inWindow(STORED_AT)}
          and (datetime_removed is null or datetime_removed > ${storedAt})
        group by 1 order by 1`,
  );

  const removals = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${bucket("datetime_removed")} as at, count(*) as count, coalesce(sum(size), 0) as bytes,
          count(*) filter (where ${storedAt} < datetime_removed) as stored_count,
          coalesce(sum(size) filter (where ${storedAt} < datetime_removed), 0) as stored_bytes
        from files where project_key = ${projectKey} and ${inWindow("datetime_removed")}
        group by 1 order by 1`,
  );

  const [storedAtStart] = await queryRows<Record<string, unknown>>(
    db,
    sql`select count(*) as count, coalesce(sum(size), 0) as bytes from files
        where project_key = ${projectKey} and ${storedAt} < ${b.from}::timestamptz
          and (datetime_removed is null or datetime_removed >= ${b.from}::timestamptz)`,
  );

  const mimeTypes = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${weekOf("datetime_uploaded", b)} as week, mime_type, count(*) as count, coalesce(sum(size), 0) as bytes
        from files where project_key = ${projectKey} and ${inWindow("datetime_uploaded")}
        group by 1, 2`,
  );

  const fileColumns = sql.raw(`uuid::text as uuid, original_filename, mime_type, size, datetime_uploaded::text as uploaded,
    ${STORED_AT}::text as stored, datetime_removed::text as removed`);
  const largest = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${fileColumns} from files
        where project_key = ${projectKey} and datetime_uploaded >= ${current.start}::timestamptz and datetime_uploaded < ${current.end}::timestamptz
        order by size desc, datetime_uploaded, uuid limit ${LARGEST_FILES_MAX}`,
  );

  // A file still pending at a week's end: uploaded in its last 24 h, not stored and not removed by then.
  const pendingAt = (end: string) => sql`datetime_uploaded >= ${new Date(Date.parse(end) - UNSTORED_TTL_MS).toISOString()}::timestamptz
    and datetime_uploaded < ${end}::timestamptz
    and (${storedAt} is null or ${storedAt} >= ${end}::timestamptz)
    and (datetime_removed is null or datetime_removed >= ${end}::timestamptz)`;
  const expiring = await queryRows<Record<string, unknown>>(
    db,
    sql`select 'current' as week, count(*) as count, coalesce(sum(size), 0) as bytes from files where project_key = ${projectKey} and ${pendingAt(current.end)}
        union all
        select 'previous', count(*), coalesce(sum(size), 0) from files where project_key = ${projectKey} and ${pendingAt(previous.end)}`,
  );
  const expiringFiles = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${fileColumns} from files where project_key = ${projectKey} and ${pendingAt(current.end)}
        order by datetime_uploaded, uuid limit ${EXPIRING_FILES_MAX}`,
  );

  const eventTime = "coalesce(e.occurred_at, e.observed_at)";
  const deletions = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${weekOf(eventTime, b)} as week, e.actor, e.source, count(*) as count, coalesce(sum(f.size), 0) as bytes
        from file_events e left join files f on f.project_key = e.project_key and f.uuid = e.file_uuid
        where e.project_key = ${projectKey} and e.kind = 'removed' and ${inWindow(eventTime)}
        group by 1, 2, 3`,
  );

  const dates = [...previous.days, ...current.days].map((d) => d.date);
  const usage = await queryRows<Record<string, unknown>>(
    db,
    sql`select date::text as date, metric, value, unit from usage_daily
        where project_key = ${projectKey} and date = any(${sql.param(dates)}::date[])
        order by date, metric`,
  );

  const requests = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${bucket("requested_at")} as at, count(*) as count, count(*) filter (where status is null or status >= 400) as errors
        from api_requests where project_key = ${projectKey} and ${inWindow("requested_at")}
        group by 1 order by 1`,
  );
  const requestsByStatus = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${weekOf("requested_at", b)} as week, status, count(*) as count
        from api_requests where project_key = ${projectKey} and ${inWindow("requested_at")}
        group by 1, 2`,
  );

  const plans = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${weekOf(eventTime, b)} as week, e.plan_id, e.kind, count(distinct e.file_uuid) as files
        from file_events e
        where e.project_key = ${projectKey} and e.source = 'action' and e.plan_id is not null and ${inWindow(eventTime)}
        group by 1, 2, 3`,
  );

  // Version plans that delete originals: bytes of the deleted originals beyond their copies, by the week the item finished.
  const planSavings = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${weekOf("i.finished_at", b)} as week, i.plan_id::text as plan_id, sum(i.size - i.copy_size)::bigint as bytes
        from plan_items i join plans p on p.project_key = i.project_key and p.id = i.plan_id
        where i.project_key = ${projectKey} and p.action = 'version' and (p.policy -> 'versionSpec' ->> 'deleteOriginal') = 'true'
          and i.status = 'done' and i.copy_size is not null and ${inWindow("i.finished_at")}
        group by 1, 2`,
  );

  const lanes = await queryRows<Record<string, unknown>>(
    db,
    sql`select stream, lane,
          max(finished_at) filter (where status = 'ok' and finished_at < ${b.to}::timestamptz)::text as last_success,
          max(finished_at) filter (where status = 'ok' and finished_at < ${b.middle}::timestamptz)::text as previous_last_success,
          count(*) filter (where status in ('failed', 'abandoned') and started_at >= ${b.middle}::timestamptz and started_at < ${b.to}::timestamptz) as failed_current,
          count(*) filter (where status in ('failed', 'abandoned') and started_at >= ${b.from}::timestamptz and started_at < ${b.middle}::timestamptz) as failed_previous,
          count(*) filter (where status in ('rate_limited', 'partial') and started_at >= ${b.middle}::timestamptz and started_at < ${b.to}::timestamptz) as incomplete_current,
          count(*) filter (where status in ('rate_limited', 'partial') and started_at >= ${b.from}::timestamptz and started_at < ${b.middle}::timestamptz) as incomplete_previous
        from sync_runs where project_key = ${projectKey} and started_at < ${b.to}::timestamptz
        group by stream, lane order by stream, lane`,
  );

  const deliveryFailures = await queryRows<Record<string, unknown>>(
    db,
    sql`select ${weekOf("a.started_at", b)} as week, count(*) as failed_attempts,
          count(distinct (a.report_id, a.recipient)) as deliveries,
          count(distinct (a.report_id, a.recipient)) filter (where d.status = 'gave_up' and d.updated_at < ${b.to}::timestamptz) as gave_up
        from report_delivery_attempts a
        join report_deliveries d on d.project_key = a.project_key and d.report_id = a.report_id and d.recipient = a.recipient
        where a.project_key = ${projectKey} and a.outcome <> 'sent' and ${inWindow("a.started_at")}
        group by 1`,
  );

  return {
    project: { key: projectKey, name: project?.name ?? projectKey },
    uploads: uploads.map((r) => ({
      at: canonicalTimestamp(String(r["at"])),
      count: num(r["count"]),
      bytes: num(r["bytes"]),
      unstoredCount: num(r["unstored_count"]),
      unstoredBytes: num(r["unstored_bytes"]),
    })),
    stores: stores.map((r) => ({ at: canonicalTimestamp(String(r["at"])), count: num(r["count"]), bytes: num(r["bytes"]) })),
    removals: removals.map((r) => ({
      at: canonicalTimestamp(String(r["at"])),
      count: num(r["count"]),
      bytes: num(r["bytes"]),
      storedCount: num(r["stored_count"]),
      storedBytes: num(r["stored_bytes"]),
    })),
    storedAtStart: { count: num(storedAtStart?.["count"]), bytes: num(storedAtStart?.["bytes"]) },
    mimeTypes: mimeTypes.map((r) => ({ week: r["week"] as Week, mimeType: String(r["mime_type"]), count: num(r["count"]), bytes: num(r["bytes"]) })),
    largestFiles: largest.map(toFileItem),
    expiring: expiring.map((r) => ({ week: r["week"] as Week, count: num(r["count"]), bytes: num(r["bytes"]) })),
    expiringFiles: expiringFiles.map(toFileItem),
    deletions: deletions.map((r) => ({
      week: r["week"] as Week,
      actor: String(r["actor"]),
      source: String(r["source"]),
      count: num(r["count"]),
      bytes: num(r["bytes"]),
    })),
    usage: usage.map((r) => ({ date: String(r["date"]), metric: String(r["metric"]), value: num(r["value"]), unit: String(r["unit"]) })),
    requests: requests.map((r) => ({ at: canonicalTimestamp(String(r["at"])), count: num(r["count"]), errors: num(r["errors"]) })),
    requestsByStatus: requestsByStatus.map((r) => ({
      week: r["week"] as Week,
      status: r["status"] === null ? null : num(r["status"]),
      count: num(r["count"]),
    })),
    plans: plans.map((r) => ({ week: r["week"] as Week, planId: String(r["plan_id"]), kind: String(r["kind"]), files: num(r["files"]) })),
    planSavings: planSavings.map((r) => ({ week: r["week"] as Week, planId: String(r["plan_id"]), bytes: num(r["bytes"]) })),
    syncLanes: lanes.map((r) => ({
      stream: String(r["stream"]),
      lane: String(r["lane"]),
      lastSuccessAt: canonicalTimestampOrNull(r["last_success"] as string | null),
      previousLastSuccessAt: canonicalTimestampOrNull(r["previous_last_success"] as string | null),
      failed: { current: num(r["failed_current"]), previous: num(r["failed_previous"]) },
      incomplete: { current: num(r["incomplete_current"]), previous: num(r["incomplete_previous"]) },
    })),
    orphans: await readOrphanRows(db, { projectKey, current, previous }),
    deliveryFailures: deliveryFailures.map((r) => ({
      week: r["week"] as Week,
      failedAttempts: num(r["failed_attempts"]),
      deliveries: num(r["deliveries"]),
      gaveUp: num(r["gave_up"]),
    })),
  };
}

function toFileItem(r: Record<string, unknown>): FileItem {
  return {
    uuid: String(r["uuid"]),
    filename: String(r["original_filename"]),
    mimeType: String(r["mime_type"]),
    size: num(r["size"]),
    uploadedAt: canonicalTimestamp(String(r["uploaded"])),
    storedAt: canonicalTimestampOrNull(r["stored"] as string | null),
    removedAt: canonicalTimestampOrNull(r["removed"] as string | null),
  };
}
