import { fromEpochMicros, toEpochMicros, dateToTimestamp } from "../../db/timestamps.ts";
import { readCheckpoint, writeCheckpoint, type CheckpointKey } from "../checkpoints.ts";
import type { ListCursor } from "../uploadcare/client.ts";
import { admitFiles } from "./admit.ts";
import type { FileRecord } from "./file-record.ts";
import { listPages } from "./list-pages.ts";
import { SYNC_ACTOR, countPage, type LaneDeps, type LaneRun } from "./lane-deps.ts";
import { writeFiles } from "./write-files.ts";

/**
 * How far before its checkpoint each run starts reading again. A file becomes
 * listable only when its upload completes, but is listed at the time the upload
 * began: a long multipart upload can appear behind the checkpoint. Unchanged
 * pages write nothing, so the window costs requests only.
 */
export const DEFAULT_LOOKBACK_MS = 60 * 60 * 1000;

/**
 * The new-files lane: pages `GET /files/` in upload order from the checkpoint
 * (less the look-back window). Each page's rows, events and the cursor of the
 * next page commit together, so a crash anywhere resumes exactly where the last
 * committed page ended; the checkpoint never moves back.
 */
export async function runNewFilesLane(deps: LaneDeps & { lookbackMs?: number }, run: LaneRun): Promise<void> {
  const key: CheckpointKey = { projectKey: deps.client.transport.projectKey, stream: "files", lane: "new" };
  let checkpoint: ListCursor = (await readCheckpoint<ListCursor & Record<string, unknown>>(deps.db, key)) ?? {};
  const start = lookBack(checkpoint, deps.lookbackMs ?? DEFAULT_LOOKBACK_MS);

  for await (const page of listPages(deps.client, start, {}, deps.signal)) {
    deps.signal?.throwIfAborted();
    const { records, quarantine } = admitFiles(page.items, "list", dateToTimestamp(page.observedAt));
    // Follow Uploadcare's own `next` cursor (it carries `offset` for ties); at the
    // end, resume just before the last upload time so late ties are re-read.
    const nextCursor = page.next ?? tailCursor(records, checkpoint);
    const moved = isAhead(nextCursor, checkpoint);
    const counts = await writeFiles(
      deps.db,
      { projectKey: key.projectKey, source: "sync", runId: run.runId, actor: SYNC_ACTOR, now: deps.now, fence: deps.fence },
      records,
      moved ? (tx) => writeCheckpoint(tx, key, { ...nextCursor }, deps.now()) : undefined,
      quarantine,
    );
    await countPage(deps, run, page.items.length, counts);
    deps.onPage?.({
      lane: "new",
      pages: run.counts.pages,
      seen: run.counts.seen,
      expected: page.totals ? (page.totals.stored ?? 0) + (page.totals.unstored ?? 0) : null,
    });
    if (moved) checkpoint = nextCursor;
  }
}

/** Where a run starts: the window before the checkpoint (the very start when there is none). */
export function lookBack(checkpoint: ListCursor, lookbackMs: number): ListCursor {
  if (!checkpoint.from || lookbackMs <= 0) return checkpoint;
  return { from: fromEpochMicros(toEpochMicros(checkpoint.from) - BigInt(lookbackMs) * 1000n) };
}

/** True when `next` lies beyond `current` in upload order (a cursor without `from` is the start). */
export function isAhead(next: ListCursor, current: ListCursor): boolean {
  if (!next.from) return false;
  if (!current.from) return true;
  const a = toEpochMicros(next.from);
  const b = toEpochMicros(current.from);
  return a > b || (a === b && (next.offset ?? 0) > (current.offset ?? 0));
}

/** Where to resume after the last page: one microsecond before its newest upload time. */
export function tailCursor(records: FileRecord[], current: ListCursor): ListCursor {
  if (records.length === 0) return current;
  let newest = records[0]!.datetimeUploaded;
  for (const record of records) if (record.datetimeUploaded > newest) newest = record.datetimeUploaded;
  return { from: fromEpochMicros(toEpochMicros(newest) - 1n) };
}
