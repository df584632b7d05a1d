import { sql } from "drizzle-orm";
import { queryRows } from "../../../db/query.ts";
import { dateToTimestamp, fromEpochMicros, toEpochMicros } from "../../../db/timestamps.ts";
import { readCheckpoint, writeCheckpoint, type CheckpointKey } from "../../checkpoints.ts";
import type { ListCursor } from "../../uploadcare/client.ts";
import { admitFiles } from "../admit.ts";
import { SYNC_ACTOR, countPage, type LaneDeps, type LaneRun } from "../lane-deps.ts";
import { isAhead } from "../new-files-lane.ts";
import { AdaptiveConcurrency } from "./adaptive-concurrency.ts";
import { completePlan, readPlan, readProgress, writePlan, type BackfillPlan } from "./backfill-state.ts";
import { PageWriter } from "./page-writer.ts";
import { pageSlice, type ListRequest } from "./slice-pager.ts";
import { planSlices, type Slice } from "./slice-plan.ts";

/** List requests in flight at once unless configured: Uploadcare publishes no limit, and 429s halve it. */
export const DEFAULT_LIST_CONCURRENCY = 8;

export interface BackfillDeps extends LaneDeps {
  /** Most list requests in flight at once. */
  concurrency?: number;
}

/**
 * A project's first sync: lists every live and removed file once, in upload-time
 * slices paged concurrently, each slice resuming after a crash where its last
 * committed page ended. When every slice has ended, the new-files lane's
 * checkpoint is set after the newest upload and the plan is marked complete: the
 * reconciliation baseline, so later syncs page only what is new and a later
 * `--full` reconciles against this listing.
 */
export async function runBackfillLane(deps: BackfillDeps, run: LaneRun): Promise<void> {
  const projectKey = deps.client.transport.projectKey;
  const limiter = new AdaptiveConcurrency(deps.concurrency ?? DEFAULT_LIST_CONCURRENCY);
  const plan = await startOrResume(deps, projectKey, limiter);
  const progress = await readProgress(deps.db, projectKey);
  const open = plan.slices.filter((s) => !progress.get(s.id)?.done);
  const writer = new PageWriter(deps.db, { projectKey, source: "sync", runId: run.runId, actor: SYNC_ACTOR, now: deps.now, fence: deps.fence });
  const stop = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  // Checked again once a request has its turn: none starts after the run must stop.
  const list: ListRequest = (cursor) =>
    limiter.run(() => {
      signal.throwIfAborted();
      return deps.client.listFiles({ ...cursor, onThrottled: () => limiter.throttled() });
    });
  const expected = plan.expected ?? null;

  const pageOne = async (slice: Slice) => {
    for await (const step of pageSlice(list, slice, progress.get(slice.id)?.next ?? null, signal)) {
      const { records, quarantine } = admitFiles(step.items, "list", dateToTimestamp(step.page.observedAt));
      const counts = await writer.write({ sliceId: slice.id, records, quarantine, progress: step.progress });
      await countPage(deps, run, step.items.length, counts);
      deps.onPage?.({ lane: "backfill", pages: run.counts.pages, seen: run.counts.seen, expected });
    }
  };
  // Workers take slices in order; a failure stops the others before their next page.
  let next = 0;
  const worker = async () => {
    while (next < open.length && !signal.aborted) await pageOne(open[next++]!);
  };
  const outcomes = await Promise.allSettled(
    Array.from({ length: Math.min(limiter.max, open.length) }, () => worker().catch((err) => (stop.abort(), Promise.reject(err)))),
  );
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failed) throw deps.signal?.aborted ? deps.signal.reason : failed.reason;
  deps.signal?.throwIfAborted();
  await finish(deps, projectKey, plan);
}

async function startOrResume(deps: BackfillDeps, projectKey: string, limiter: AdaptiveConcurrency): Promise<BackfillPlan> {
  const held = await readPlan(deps.db, projectKey);
  if (held && !held.complete) return held;
  let expected = 0;
  const slices = await planSlices(deps.client, limiter.max, async (removed, newestFirst) => {
    const page = await limiter.run(() => deps.client.listFiles({ removed, newestFirst, limit: 1, onThrottled: () => limiter.throttled() }));
    if (!newestFirst) {
      const t = page.totals;
      expected += Math.max(0, removed ? (t?.removed ?? 0) : (t?.stored ?? 0) + (t?.unstored ?? 0));
    }
    return page;
  });
  const plan = { startedAt: dateToTimestamp(deps.now()), slices, complete: false, expected };
  await deps.db.transaction(async (tx) => {
    await deps.fence?.(tx);
    await writePlan(tx, projectKey, plan, deps.now());
  });
  return plan;
}

/** The baseline: the new-files lane resumes after the newest upload listed, and the plan is complete. */
async function finish(deps: BackfillDeps, projectKey: string, plan: BackfillPlan): Promise<void> {
  const newKey: CheckpointKey = { projectKey, stream: "files", lane: "new" };
  await deps.db.transaction(async (tx) => {
    await deps.fence?.(tx);
    const [row] = await queryRows<{ newest: string | null }>(
      tx,
      sql`select max(datetime_uploaded)::text as newest from files where project_key = ${projectKey}`,
    );
    const held: ListCursor = (await readCheckpoint<ListCursor & Record<string, unknown>>(tx, newKey)) ?? {};
    // As the new-files lane's own tail: just before the newest upload, so late ties are read again.
    const tail: ListCursor = row?.newest ? { from: fromEpochMicros(toEpochMicros(row.newest) - 1n) } : {};
    if (isAhead(tail, held)) await writeCheckpoint(tx, newKey, { ...tail }, deps.now());
    await completePlan(tx, projectKey, plan, deps.now());
  });
}
