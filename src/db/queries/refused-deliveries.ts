import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { execute, queryRows } from "../query.ts";
import type { RefusalReason } from "../schema/index.ts";
import { dateToTimestamp } from "../timestamps.ts";

/** Refused deliveries name no project we can trust (as in `api_requests`). */
export const REFUSED_PROJECT = "-";

/** The HTTP status each refusal was answered with. */
export const REFUSAL_STATUS: Record<RefusalReason, number> = { signature_missing: 401, signature_invalid: 401, body_too_large: 413 };

/** Counts one refused delivery in its (source, minute, reason) row. */
export async function countRefusedDelivery(db: Queryable, entry: { source: string; at: Date; reason: RefusalReason }): Promise<void> {
  const at = dateToTimestamp(entry.at);
  await db.execute(sql`
    insert into refused_webhook_deliveries (project_key, source, minute, reason, count, last_at)
    values (${REFUSED_PROJECT}, ${entry.source}, date_trunc('minute', ${at}::timestamptz at time zone 'UTC') at time zone 'UTC',
            ${entry.reason}, 1, ${at}::timestamptz)
    on conflict (project_key, source, minute, reason)
    do update set count = refused_webhook_deliveries.count + 1,
                  last_at = greatest(refused_webhook_deliveries.last_at, excluded.last_at)`);
}

export interface RefusedDeliveryCount {
  source: string;
  minute: string;
  reason: RefusalReason;
  status: number;
  count: number;
  lastAt: string;
}

/** Counter rows in a time range, newest minute first (the API log's view of refused traffic). */
export async function listRefusedDeliveries(
  db: Queryable,
  query: { from?: string | undefined; to?: string | undefined; limit: number },
): Promise<RefusedDeliveryCount[]> {
  const rows = await queryRows<{ source: string; minute: string; reason: RefusalReason; count: number; last_at: string }>(
    db,
    sql`select source, to_char(minute at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as minute, reason, count,
               to_char(last_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as last_at
        from refused_webhook_deliveries
        where project_key = ${REFUSED_PROJECT}
          ${query.from ? sql`and minute >= date_trunc('minute', ${query.from}::timestamptz at time zone 'UTC') at time zone 'UTC'` : sql``}
          ${query.to ? sql`and minute < ${query.to}::timestamptz` : sql``}
        order by minute desc, count desc, source, reason
        limit ${query.limit}`,
  );
  return rows.map((r) => ({ source: r.source, minute: r.minute, reason: r.reason, status: REFUSAL_STATUS[r.reason], count: Number(r.count), lastAt: r.last_at }));
}

/** Totals by reason over a range of minutes (the API log's summary and /metrics). */
export async function refusedDeliveryTotals(
  db: Queryable,
  range: { from: string; to?: string | undefined },
): Promise<{ reason: RefusalReason; count: number; sources: number }[]> {
  const rows = await queryRows<{ reason: RefusalReason; count: number; sources: number }>(
    db,
    sql`select reason, sum(count)::int8 as count, count(distinct source)::int as sources
        from refused_webhook_deliveries
        where project_key = ${REFUSED_PROJECT}
          and minute >= date_trunc('minute', ${range.from}::timestamptz at time zone 'UTC') at time zone 'UTC'
          ${range.to ? sql`and minute < ${range.to}::timestamptz` : sql``}
        group by reason order by reason`,
  );
  return rows.map((r) => ({ reason: r.reason, count: Number(r.count), sources: Number(r.sources) }));
}

/** The daily sweep: minutes before `before` are deleted. */
export async function dropOldRefusedDeliveries(db: Queryable, before: Date): Promise<number> {
  return execute(db, sql`delete from refused_webhook_deliveries where minute < ${dateToTimestamp(before)}::timestamptz`);
}
