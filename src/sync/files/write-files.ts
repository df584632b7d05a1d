import { sql } from "drizzle-orm";
import { sameJson } from "../../db/audit/canonical-json.ts";
import { appendEvents, lockChainHead, type NewEvent } from "../../db/audit/chain.ts";
import type { Db, Queryable } from "../../db/client.ts";
import { queryRows } from "../../db/query.ts";
import type { EventSource } from "../../db/schema/index.ts";
import { canonicalTimestamp, dateToTimestamp } from "../../db/timestamps.ts";
import { UploadcareFile } from "../uploadcare/file-object.ts";
import type { QuarantineEntry } from "./admit.ts";
import { diffFile } from "./diff.ts";
import { isStale, toFileRecord, type FileRecord } from "./file-record.ts";
import { recordQuarantine } from "./set-aside.ts";

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
  /** Snapshots older than the ledger's copy (observed earlier, or older by Uploadcare's times), left unapplied. */
  stale: number;
  events: number;
  /** Quarantine entries kept with the batch (set aside, or stored with substitutes). */
  quarantined: number;
}

/** Extra writes that must commit atomically with the page (a checkpoint, inbox marks). */
export type AlsoInTransaction = (tx: Queryable, counts: WriteCounts) => Promise<void>;

export interface CurrentRow {
  uuid: string;
  data: Record<string, unknown>;
  observed_at: string | null;
  missing_since: string | null;
  missed_scans: number;
}

export interface Plan {
  counts: WriteCounts;
  upserts: FileRecord[];
  events: NewEvent[];
}

/**
 * Brings the ledger's copy of a batch of files up to date and records each
 * change in the audit chain, all in one transaction. A batch that changes
 * nothing writes nothing (unless `alsoInTransaction` is given or something was
 * quarantined). Set-based: one read, one upsert and one event insert per batch.
 */
export async function writeFiles(
  db: Db,
  ctx: WriteContext,
  records: FileRecord[],
  alsoInTransaction?: AlsoInTransaction,
  quarantine: QuarantineEntry[] = [],
): Promise<WriteCounts> {
  const batch = dedupe(records);
  // Optimistic pass without locks: the common case (nothing changed) ends here.
  const preview = planWrites(ctx, batch, await readCurrent(db, ctx.projectKey, batch));
  preview.counts.quarantined = quarantine.length;
  if (preview.upserts.length === 0 && !alsoInTransaction && quarantine.length === 0) return preview.counts;

  return db.transaction(async (tx) => {
    await ctx.fence?.(tx);
    const counts = await applySnapshots(tx, ctx, batch, quarantine);
    await alsoInTransaction?.(tx, counts);
    return counts;
  });
}

/**
 * The write itself, inside the caller's transaction: re-reads the held rows under
 * the project's chain-head lock, so no other writer of the project (another
 * instance, the webhook lane) can slip in between the comparison and the write.
 */
export async function applySnapshots(tx: Queryable, ctx: WriteContext, records: FileRecord[], quarantine: QuarantineEntry[] = []): Promise<WriteCounts> {
  const batch = dedupe(records);
  await recordQuarantine(tx, ctx.projectKey, quarantine, { runId: ctx.runId, now: ctx.now() });
  if (batch.length === 0) return { inserted: 0, changed: 0, unchanged: 0, stale: 0, events: 0, quarantined: quarantine.length };
  // Safe to skip the wait for the WAL flush: the page's rows, events and cursor
  // commit or vanish together, so a commit lost in a server crash is a page
  // read again on the next run, never a gap or a duplicate.
  await tx.execute(sql`set local synchronous_commit = off`);
  const head = await lockChainHead(tx, ctx.projectKey);
  const plan = planWrites(ctx, batch, await readCurrent(tx, ctx.projectKey, batch));
  plan.counts.quarantined = quarantine.length;
  if (plan.upserts.length === 0) return plan.counts;
  await upsertFiles(tx, ctx, plan.upserts);
  await appendEvents(tx, ctx.projectKey, plan.events, head);
  return plan.counts;
}

export function dedupe(records: FileRecord[]): FileRecord[] {
  // Ties at a page boundary can list a file twice; keep the newest snapshot.
  const byUuid = new Map<string, FileRecord>();
  for (const record of records) {
    const seen = byUuid.get(record.uuid);
    if (!seen || !isStale(seen, record)) byUuid.set(record.uuid, record);
  }
  return [...byUuid.values()];
}

export async function readCurrent(db: Queryable, projectKey: string, batch: FileRecord[]): Promise<Map<string, CurrentRow>> {
  if (batch.length === 0) return new Map();
  const rows = await queryRows<CurrentRow>(
    db,
    sql`select uuid::text as uuid, data, observed_at::text as observed_at, missing_since::text as missing_since, missed_scans
        from files where project_key = ${projectKey} and uuid = any(${sql.param(batch.map((r) => r.uuid))}::uuid[])`,
  );
  return new Map(rows.map((row) => [row.uuid, row]));
}

/** The ledger's copy as a record, observed when the row says (rows from before observation order: never). */
export function heldRecord(row: { data: Record<string, unknown>; observed_at: string | null }): FileRecord {
  // Validated, but the row's own object is used (zod's copy loses a `__proto__` key).
  UploadcareFile.parse(row.data);
  return toFileRecord(row.data as UploadcareFile, row.observed_at ? canonicalTimestamp(row.observed_at) : "1970-01-01T00:00:00Z");
}

export function planWrites(ctx: WriteContext, batch: FileRecord[], current: Map<string, CurrentRow>): Plan {
  const plan: Plan = { counts: { inserted: 0, changed: 0, unchanged: 0, stale: 0, events: 0, quarantined: 0 }, upserts: [], events: [] };
  const addEvent = (next: FileRecord, change: Omit<NewEvent, "fileUuid" | "observedAt" | "source" | "runId" | "planId" | "actor">) =>
    plan.events.push({
      ...change,
      fileUuid: next.uuid,
      // The change was seen when the snapshot that shows it was observed.
      observedAt: next.observedAt,
      source: ctx.source,
      runId: ctx.runId,
      planId: ctx.planId ?? null,
      actor: ctx.actor,
    });

  for (const next of batch) {
    const row = current.get(next.uuid);
    const needsReset = row !== undefined && (row.missing_since !== null || row.missed_scans > 0);
    // The common case, an unchanged file, is decided on the raw objects alone.
    if (row && !needsReset && sameJson(row.data, next.data)) {
      plan.counts.unchanged += 1;
      continue;
    }
    const existing = row ? heldRecord(row) : null;
    const wasMissing = row !== undefined && row.missing_since !== null;
    // An older snapshot never overwrites a newer one, nor writes events.
    const stale = existing !== null && isStale(existing, next);
    const changes = stale ? [] : diffFile(existing, next);
    if (wasMissing) addEvent(next, { kind: "reappeared", before: { missing_since: row.missing_since }, after: null, occurredAt: null });
    for (const change of changes) addEvent(next, change);

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
export async function upsertFiles(tx: Queryable, ctx: WriteContext, records: FileRecord[]): Promise<void> {
  if (records.length === 0) return;
  const now = dateToTimestamp(ctx.now());
  const payload = JSON.stringify(records.map((r) => ({ o: r.observedAt, d: r.data })));
  await tx.execute(sql`
    insert into files (project_key, uuid, datetime_uploaded, datetime_stored, datetime_removed, size, mime_type,
                       is_image, is_ready, original_filename, original_file_url, metadata, appdata, data,
                       missing_since, missed_scans, observed_at, last_stored_at, first_seen_at, updated_at)
    select ${ctx.projectKey}, lower(r->>'uuid')::uuid, (r->>'datetime_uploaded')::timestamptz,
           (r->>'datetime_stored')::timestamptz, (r->>'datetime_removed')::timestamptz, (r->>'size')::bigint,
           r->>'mime_type', (r->>'is_image')::boolean, (r->>'is_ready')::boolean, r->>'original_filename',
           r->>'original_file_url', coalesce(nullif(r->'metadata', 'null'::jsonb), '{}'::jsonb),
           nullif(r->'appdata', 'null'::jsonb), r, null, 0, o, (r->>'datetime_stored')::timestamptz,
           ${now}::timestamptz, ${now}::timestamptz
    from (select e->'d' as r, (e->>'o')::timestamptz as o from jsonb_array_elements(${payload}::jsonb) as e) as s
    on conflict (project_key, uuid) do update set
      datetime_uploaded = excluded.datetime_uploaded, datetime_stored = excluded.datetime_stored,
      datetime_removed = excluded.datetime_removed, size = excluded.size, mime_type = excluded.mime_type,
      is_image = excluded.is_image, is_ready = excluded.is_ready, original_filename = excluded.original_filename,
      original_file_url = excluded.original_file_url, metadata = excluded.metadata, appdata = excluded.appdata,
      data = excluded.data, missing_since = null, missed_scans = 0,
      observed_at = greatest(files.observed_at, excluded.observed_at),
      -- Uploadcare clears datetime_stored on delete; the ledger keeps the last one it saw.
      last_stored_at = coalesce(excluded.datetime_stored, files.last_stored_at),
      updated_at = excluded.updated_at`);
}
