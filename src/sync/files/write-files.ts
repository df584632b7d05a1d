import { sql } from "drizzle-orm";
import { sameJson } from "../../db/audit/canonical-json.ts";
import { appendEvents, lockChainHead, type NewEvent } from "../../db/audit/chain.ts";
import type { Db, Queryable } from "../../db/client.ts";
import { queryRows } from "../../db/query.ts";
import type { EventSource } from "../../db/schema/index.ts";
import { dateToTimestamp } from "../../db/timestamps.ts";
import { UploadcareFile } from "../uploadcare/file-object.ts";
import { diffFile } from "./diff.ts";
import { isStale, toFileRecord, type FileRecord } from "./file-record.ts";

export interface WriteContext {
  projectKey: string;
  source: EventSource;
  runId: string | null;
  actor: string;
  now: () => Date;
  /** The decision plan an action belongs to (source `action`). */
  planId?: string | null;
  /** A scheduled run's fence: refuses the commit once another instance took the run over. */
  fence?: (tx: Queryable) => Promise<void>;
}

export interface WriteCounts {
  inserted: number;
  changed: number;
  unchanged: number;
  /** Snapshots older than the ledger's copy, left unapplied. */
  stale: number;
  events: number;
}

/** Extra writes that must commit atomically with the page (a checkpoint, inbox marks). */
export type AlsoInTransaction = (tx: Queryable, counts: WriteCounts) => Promise<void>;

interface CurrentRow {
  uuid: string;
  data: Record<string, unknown>;
  missing_since: string | null;
  missed_scans: number;
}

interface Plan {
  counts: WriteCounts;
  upserts: FileRecord[];
  events: NewEvent[];
}

/**
 * Brings the ledger's copy of a batch of files up to date and records each
 * change in the audit chain, all in one transaction. A batch that changes
 * nothing writes nothing (unless `alsoInTransaction` is given). Set-based:
 * one read, one upsert through unnest arrays and one event insert per batch.
 */
export async function writeFiles(
  db: Db,
  ctx: WriteContext,
  records: FileRecord[],
  alsoInTransaction?: AlsoInTransaction,
): Promise<WriteCounts> {
  const batch = dedupe(records);
  // Optimistic pass without locks: the common case (nothing changed) ends here.
  const preview = planWrites(ctx, batch, await readCurrent(db, ctx.projectKey, batch));
  if (preview.upserts.length === 0 && !alsoInTransaction) return preview.counts;

  return db.transaction(async (tx) => {
    await ctx.fence?.(tx);
    if (preview.upserts.length === 0) {
      await alsoInTransaction!(tx, preview.counts);
      return preview.counts;
    }
    // Safe to skip the wait for the WAL flush: the page's rows, events and cursor
    // commit or vanish together, so a commit lost in a server crash is a page
    // read again on the next run, never a gap or a duplicate.
    await tx.execute(sql`set local synchronous_commit = off`);
    // The chain head lock serializes writers of this project, so the re-read
    // below cannot race another instance or the webhook lane.
    const head = await lockChainHead(tx, ctx.projectKey);
    const plan = planWrites(ctx, batch, await readCurrent(tx, ctx.projectKey, batch));
    await upsertFiles(tx, ctx, plan.upserts);
    await appendEvents(tx, ctx.projectKey, plan.events, head);
    await alsoInTransaction?.(tx, plan.counts);
    return plan.counts;
  });
}

function dedupe(records: FileRecord[]): FileRecord[] {
  // Ties at a page boundary can list a file twice; keep the newest snapshot.
  const byUuid = new Map<string, FileRecord>();
  for (const record of records) {
    const seen = byUuid.get(record.uuid);
    if (!seen || !isStale(seen, record)) byUuid.set(record.uuid, record);
  }
  return [...byUuid.values()];
}

async function readCurrent(db: Queryable, projectKey: string, batch: FileRecord[]): Promise<Map<string, CurrentRow>> {
  if (batch.length === 0) return new Map();
  const rows = await queryRows<CurrentRow>(
    db,
    sql`select uuid::text as uuid, data, missing_since::text as missing_since, missed_scans
        from files where project_key = ${projectKey} and uuid = any(${sql.param(batch.map((r) => r.uuid))}::uuid[])`,
  );
  return new Map(rows.map((row) => [row.uuid, row]));
}

function planWrites(ctx: WriteContext, batch: FileRecord[], current: Map<string, CurrentRow>): Plan {
  const observedAt = dateToTimestamp(ctx.now());
  const plan: Plan = { counts: { inserted: 0, changed: 0, unchanged: 0, stale: 0, events: 0 }, upserts: [], events: [] };
  const addEvent = (uuid: string, change: Omit<NewEvent, "fileUuid" | "observedAt" | "source" | "runId" | "planId" | "actor">) =>
    plan.events.push({ ...change, fileUuid: uuid, observedAt, source: ctx.source, runId: ctx.runId, planId: ctx.planId ?? null, actor: ctx.actor });

  for (const next of batch) {
    const row = current.get(next.uuid);
    const needsReset = row !== undefined && (row.missing_since !== null || row.missed_scans > 0);
    // The common case, an unchanged file, is decided on the raw objects alone.
    if (row && !needsReset && sameJson(row.data, next.data)) {
      plan.counts.unchanged += 1;
      continue;
    }
    const existing = row ? toFileRecord(UploadcareFile.parse(row.data)) : null;
    const wasMissing = row !== undefined && row.missing_since !== null;
    const stale = existing !== null && isStale(existing, next);
    const changes = stale ? [] : diffFile(existing, next);
    if (wasMissing) addEvent(next.uuid, { kind: "reappeared", before: { missing_since: row.missing_since }, after: null, occurredAt: null });
    for (const change of changes) addEvent(next.uuid, change);

    if (stale) plan.counts.stale += 1;
    if (existing === null) plan.counts.inserted += 1;
    else if (changes.length > 0) plan.counts.changed += 1;
    else plan.counts.unchanged += 1;

    // Being listed again also clears a reconciliation's count of missed scans.
    if (changes.length > 0 || needsReset) plan.upserts.push(stale || changes.length === 0 ? existing! : next);
  }
  plan.counts.events = plan.events.length;
  return plan;
}

/**
 * One statement per batch: the page travels as a single JSON array parameter and
 * Postgres takes the typed columns from each object. About twice as fast as
 * unnest arrays here, where each row carries a large JSON document that array
 * literals would have to escape twice.
 */
async function upsertFiles(tx: Queryable, ctx: WriteContext, records: FileRecord[]): Promise<void> {
  if (records.length === 0) return;
  const now = dateToTimestamp(ctx.now());
  const payload = JSON.stringify(records.map((r) => r.data));
  await tx.execute(sql`
    insert into files (project_key, uuid, datetime_uploaded, datetime_stored, datetime_removed, size, mime_type,
                       is_image, is_ready, original_filename, original_file_url, metadata, appdata, data,
                       missing_since, missed_scans, first_seen_at, updated_at)
    select ${ctx.projectKey}, lower(r->>'uuid')::uuid, (r->>'datetime_uploaded')::timestamptz,
           (r->>'datetime_stored')::timestamptz, (r->>'datetime_removed')::timestamptz, (r->>'size')::bigint,
           r->>'mime_type', (r->>'is_image')::boolean, (r->>'is_ready')::boolean, r->>'original_filename',
           r->>'original_file_url', coalesce(nullif(r->'metadata', 'null'::jsonb), '{}'::jsonb),
           nullif(r->'appdata', 'null'::jsonb), r, null, 0, ${now}::timestamptz, ${now}::timestamptz
    from jsonb_array_elements(${payload}::jsonb) as r
    on conflict (project_key, uuid) do update set
      datetime_uploaded = excluded.datetime_uploaded, datetime_stored = excluded.datetime_stored,
      datetime_removed = excluded.datetime_removed, size = excluded.size, mime_type = excluded.mime_type,
      is_image = excluded.is_image, is_ready = excluded.is_ready, original_filename = excluded.original_filename,
      original_file_url = excluded.original_file_url, metadata = excluded.metadata, appdata = excluded.appdata,
      data = excluded.data, missing_since = null, missed_scans = 0, updated_at = excluded.updated_at`);
}
