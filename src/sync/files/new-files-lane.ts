import { sameJson } from "../../db/audit/canonical-json.ts";
import { fromEpochMicros, toEpochMicros } from "../../db/timestamps.ts";
import { readCheckpoint, writeCheckpoint, type CheckpointKey } from "../checkpoints.ts";
import type { ListCursor } from "../uploadcare/client.ts";
import { toFileRecord, type FileRecord } from "./file-record.ts";
import { listPages } from "./list-pages.ts";
import { SYNC_ACTOR, type LaneDeps, type LaneRun } from "./lane-deps.ts";
import { writeFiles } from "./write-files.ts";

/**
 * The new-files lane: pages `GET /files/` in upload order from the checkpoint.
 * Each page's rows, events and the cursor of the next page commit together, so
 * a crash anywhere resumes exactly where the last committed page ended.
 */
export async function runNewFilesLane(deps: LaneDeps, run: LaneRun): Promise<void> {
  const key: CheckpointKey = { projectKey: deps.client.transport.projectKey, stream: "files", lane: "new" };
  let cursor: ListCursor = (await readCheckpoint<ListCursor & Record<string, unknown>>(deps.db, key)) ?? {};

  for await (const page of listPages(deps.client, cursor)) {
    const records = page.files.map(toFileRecord);
    // Follow Uploadcare's own `next` cursor (it carries `offset` for ties); at the
    // end, resume just before the last upload time so late ties are re-read.
    const nextCursor = page.next ?? tailCursor(records, cursor);
    const moved = !sameJson(nextCursor, cursor);
    const counts = await writeFiles(
      deps.db,
      { projectKey: key.projectKey, source: "sync", runId: run.runId, actor: SYNC_ACTOR, now: deps.now, fence: deps.fence },
      records,
      moved ? (tx) => writeCheckpoint(tx, key, { ...nextCursor }, deps.now()) : undefined,
    );
    run.counts.pages += 1;
    run.counts.seen += records.length;
    run.counts.inserted += counts.inserted;
    run.counts.changed += counts.changed;
    await deps.noteWritten?.(counts.inserted + counts.changed);
    deps.onPage?.({
      lane: "new",
      pages: run.counts.pages,
      seen: run.counts.seen,
      expected: page.totals ? (page.totals.stored ?? 0) + (page.totals.unstored ?? 0) : null,
    });
    cursor = nextCursor;
  }
}

/** Where to resume after the last page: one microsecond before its newest upload time. */
export function tailCursor(records: FileRecord[], current: ListCursor): ListCursor {
  if (records.length === 0) return current;
  let newest = records[0]!.datetimeUploaded;
  for (const record of records) if (record.datetimeUploaded > newest) newest = record.datetimeUploaded;
  return { from: fromEpochMicros(toEpochMicros(newest) - 1n) };
}
