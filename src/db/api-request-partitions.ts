import { sql } from "drizzle-orm";
import type { Db } from "./client.ts";
import { queryRows } from "./query.ts";

/**
 * Monthly partitions of `api_requests`. Rows land in the default partition
 * until their month's partition exists; creating one moves its month's rows out
 * of the default first (Postgres refuses to attach a range the default holds).
 * Old months are dropped whole after the retention period.
 */

const PARTITION_NAME = /^api_requests_p(\d{4})(\d{2})$/;

function monthStart(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1));
}

function addMonths(date: Date, months: number): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
}

function partitionName(month: Date): string {
  return `api_requests_p${month.getUTCFullYear()}${String(month.getUTCMonth() + 1).padStart(2, "0")}`;
}

async function existingPartitions(db: Db): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`select c.relname as name from pg_inherits i
        join pg_class c on c.oid = i.inhrelid join pg_class p on p.oid = i.inhparent
        where p.relname = 'api_requests'`,
  );
  return rows.map((r) => r.name);
}

/** Makes sure the partitions for this month and the next `monthsAhead` exist. */
export async function ensureApiRequestPartitions(db: Db, now: Date, monthsAhead = 1): Promise<string[]> {
  const existing = new Set(await existingPartitions(db));
  const created: string[] = [];
  for (let i = 0; i <= monthsAhead; i++) {
    const month = addMonths(monthStart(now), i);
    const name = partitionName(month);
    if (existing.has(name)) continue;
    const from = month.toISOString();
    const to = addMonths(month, 1).toISOString();
    await db.transaction(async (tx) => {
      // Serializes instances creating the same partition at once.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${name}))`);
      const [again] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from pg_class where relname = ${name}`);
      if (again?.n) return;
      await tx.execute(sql.raw(`create table ${name} (like api_requests including defaults including constraints)`));
      await tx.execute(sql.raw(`
        with moved as (
          delete from api_requests_default where requested_at >= '${from}' and requested_at < '${to}' returning *
        ) insert into ${name} select * from moved`));
      await tx.execute(sql.raw(`alter table api_requests attach partition ${name} for values from ('${from}') to ('${to}')`));
    });
    created.push(name);
  }
  return created;
}

/** Drops months that ended before the retention cut-off, and expired rows left in the default partition. */
export async function dropExpiredApiRequests(db: Db, now: Date, retentionDays: number): Promise<string[]> {
  const cutoff = new Date(now.getTime() - retentionDays * 86_400_000);
  const dropped: string[] = [];
  for (const name of await existingPartitions(db)) {
    const match = PARTITION_NAME.exec(name);
    if (!match) continue;
    const end = addMonths(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, 1)), 1);
    if (end <= cutoff) {
      await db.execute(sql.raw(`drop table if exists ${name}`));
      dropped.push(name);
    }
  }
  await db.execute(sql`delete from api_requests_default where requested_at < ${cutoff.toISOString()}::timestamptz`);
  return dropped;
}
