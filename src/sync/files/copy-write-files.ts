import { sql } from "drizzle-orm";
import type pg from "pg";
import { appendEventsByCopy } from "../../db/audit/append-by-copy.ts";
import { lockChainHead } from "../../db/audit/chain.ts";
import type { Db } from "../../db/client.ts";
import { copyRows } from "../../db/copy-rows.ts";
import { dateToTimestamp } from "../../db/timestamps.ts";
import type { QuarantineEntry } from "./admit.ts";
import type { FileRecord } from "./file-record.ts";
import { recordQuarantine } from "./set-aside.ts";
import { dedupe, planWrites, readCurrent, upsertFiles, type WriteContext, type WriteCounts } from "./write-files.ts";

const FILE_COLUMNS = [
  "project_key", "uuid", "datetime_uploaded", "datetime_stored", "datetime_removed", "size", "mime_type",
  "is_image", "is_ready", "original_filename", "original_file_url", "metadata", "appdata", "data",
  "missing_since", "missed_scans", "observed_at", "last_stored_at", "first_seen_at", "updated_at",
] as const;

/**
 * applySnapshots for bulk loads on a server (the backfill): the same decisions —
 * observation order, one event per change, nothing written for what is
 * unchanged — with the rows streamed by COPY. Files the ledger does not hold yet
 * go straight into `files`; files it holds take the usual upsert, decided under
 * the project's chain-head lock. Runs inside the caller's transaction on `client`.
 *
 * `concurrent`: the new files are copied before the chain-head lock is taken, so
 * another writer's COPY runs while this one appends its events. Safe because a
 * file first seen has no state to compare with: if another writer inserts the
 * same file meanwhile, the unique key makes one of the two wait and then fail
 * (or PostgreSQL breaks the deadlock), nothing of it commits, and the caller
 * writes the batch again with `concurrent` off (lock first, then read).
 */
export async function applySnapshotsByCopy(
  client: pg.PoolClient,
  tx: Db,
  ctx: WriteContext,
  records: FileRecord[],
  quarantine: QuarantineEntry[] = [],
  options: { concurrent?: boolean } = {},
): Promise<WriteCounts> {
  const batch = dedupe(records);
  await recordQuarantine(tx, ctx.projectKey, quarantine, { runId: ctx.runId, now: ctx.now() });
  if (batch.length === 0) return { inserted: 0, changed: 0, unchanged: 0, stale: 0, events: 0, quarantined: quarantine.length };
  // As in applySnapshots: rows, events and checkpoints commit or vanish together.
  await tx.execute(sql`set local synchronous_commit = off`);
  let head = options.concurrent ? null : await lockChainHead(tx, ctx.projectKey);
  const seen = await readCurrent(tx, ctx.projectKey, batch);
  const fresh = batch.filter((r) => !seen.has(r.uuid));
  const now = dateToTimestamp(ctx.now());
  await copyRows(client, "files", FILE_COLUMNS, fresh.map((r) => fileRow(ctx.projectKey, r, now)));
  head ??= await lockChainHead(tx, ctx.projectKey);
  // Files the ledger held are compared under the lock (read again when it was taken late).
  const current = options.concurrent ? await readCurrent(tx, ctx.projectKey, batch.filter((r) => seen.has(r.uuid))) : seen;
  const plan = planWrites(ctx, batch, current);
  plan.counts.quarantined = quarantine.length;
  await upsertFiles(tx, ctx, plan.upserts.filter((r) => current.has(r.uuid)));
  await appendEventsByCopy(client, tx, ctx.projectKey, plan.events, head);
  return plan.counts;
}

/** A COPY that met another writer's copy of the same file: worth writing again, serially. */
export function isWriteConflict(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "23505" || code === "40P01";
}

/** The row upsertFiles would insert for a file first seen, column for column. */
function fileRow(projectKey: string, r: FileRecord, now: string) {
  return [
    projectKey,
    r.uuid,
    r.datetimeUploaded,
    r.datetimeStored,
    r.datetimeRemoved,
    r.size,
    r.mimeType,
    r.isImage,
    r.isReady,
    r.originalFilename,
    r.originalFileUrl,
    JSON.stringify(r.metadata),
    r.appdata === null ? null : JSON.stringify(r.appdata),
    JSON.stringify(r.data),
    null,
    0,
    r.observedAt,
    r.datetimeStored,
    now,
    now,
  ];
}
