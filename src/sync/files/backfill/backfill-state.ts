import { sql } from "drizzle-orm";
import type { Queryable } from "../../../db/client.ts";
import { queryRows } from "../../../db/query.ts";
import { readCheckpoint, writeCheckpoint, type CheckpointKey } from "../../checkpoints.ts";
import type { ListCursor } from "../../uploadcare/client.ts";
import type { Slice } from "./slice-plan.ts";

/** The backfill's plan, written once before the first page; `complete` once every slice has ended. */
export interface BackfillPlan {
  startedAt: string;
  slices: Slice[];
  complete: boolean;
  /** Files the listing should hold, from Uploadcare's totals (progress display only). */
  expected?: number;
}

/** Where one slice resumes; written in the transaction of the page it follows. */
export interface SliceProgress {
  next: ListCursor | null;
  done: boolean;
}

export const BACKFILL_LANE = "backfill";

export function planKey(projectKey: string): CheckpointKey {
  return { projectKey, stream: "files", lane: BACKFILL_LANE };
}

export function sliceKey(projectKey: string, sliceId: string): CheckpointKey {
  return { projectKey, stream: "files", lane: `${BACKFILL_LANE}/${sliceId}` };
}

export async function readPlan(db: Queryable, projectKey: string): Promise<BackfillPlan | null> {
  return readCheckpoint<BackfillPlan & Record<string, unknown>>(db, planKey(projectKey));
}

export async function writePlan(db: Queryable, projectKey: string, plan: BackfillPlan, now: Date): Promise<void> {
  await writeCheckpoint(db, planKey(projectKey), { ...plan }, now);
}

export async function readProgress(db: Queryable, projectKey: string): Promise<Map<string, SliceProgress>> {
  const rows = await queryRows<{ lane: string; cursor: SliceProgress }>(
    db,
    sql`select lane, cursor from sync_checkpoints where project_key = ${projectKey} and stream = 'files' and lane like ${`${BACKFILL_LANE}/%`}`,
  );
  return new Map(rows.map((r) => [r.lane.slice(BACKFILL_LANE.length + 1), r.cursor]));
}

export async function writeProgress(tx: Queryable, projectKey: string, sliceId: string, progress: SliceProgress, now: Date): Promise<void> {
  await writeCheckpoint(tx, sliceKey(projectKey, sliceId), { ...progress }, now);
}

/**
 * True once the project has a reconciliation baseline: a backfill that listed
 * everything, or (ledgers older than the backfill) a reconciliation run that
 * ended well. Without one, a sync lists every file once instead of paging the
 * new-files lane and scanning everything again.
 */
export async function hasBaseline(db: Queryable, projectKey: string): Promise<boolean> {
  const plan = await readPlan(db, projectKey);
  if (plan?.complete) return true;
  const [row] = await queryRows<{ ok: boolean }>(
    db,
    sql`select exists (select 1 from sync_runs where project_key = ${projectKey} and stream = 'files'
                       and lane = 'reconcile' and status = 'ok') as ok`,
  );
  return row?.ok === true;
}

/** Ends the backfill: the plan marked complete, the slices' rows gone, in the caller's transaction. */
export async function completePlan(tx: Queryable, projectKey: string, plan: BackfillPlan, now: Date): Promise<void> {
  await writePlan(tx, projectKey, { ...plan, complete: true }, now);
  await tx.execute(
    sql`delete from sync_checkpoints where project_key = ${projectKey} and stream = 'files' and lane like ${`${BACKFILL_LANE}/%`}`,
  );
}
