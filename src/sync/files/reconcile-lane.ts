import { sql } from "drizzle-orm";
import { appendEvents, lockChainHead, type NewEvent } from "../../db/audit/chain.ts";
import type { Db } from "../../db/client.ts";
import { queryRows } from "../../db/query.ts";
import { dateToTimestamp } from "../../db/timestamps.ts";
import { admitFiles } from "./admit.ts";
import { listPages } from "./list-pages.ts";
import { SYNC_ACTOR, countPage, type LaneDeps, type LaneRun } from "./lane-deps.ts";
import { writeFiles } from "./write-files.ts";

/** Consecutive full scans a file must be absent from before it is marked missing. */
export const MISSED_SCANS_FOR_MISSING = 2;

/**
 * The reconciliation lane: a full scan of the live list and of `removed=true`.
 * Uploadcare has no "changed since" filter and a store, delete or metadata edit
 * does not move a file in upload order, so only a full scan finds what the
 * other lanes missed. Files absent from both scans are counted; never deleted.
 */
export async function runReconcileLane(deps: LaneDeps, run: LaneRun): Promise<void> {
  const projectKey = deps.client.transport.projectKey;
  const scanStartedAt = dateToTimestamp(deps.now());
  try {
    for (const removed of [false, true]) {
      for await (const page of listPages(deps.client, {}, { removed }, deps.signal)) {
        deps.signal?.throwIfAborted();
        const { records, quarantine } = admitFiles(page.items, "list", dateToTimestamp(page.observedAt));
        const counts = await writeFiles(
          deps.db,
          { projectKey, source: "reconcile", runId: run.runId, actor: SYNC_ACTOR, now: deps.now, fence: deps.fence },
          records,
          undefined,
          quarantine,
        );
        // A file set aside was still listed: it is not missing.
        const listed = [...records.map((r) => r.uuid), ...quarantine.flatMap((q) => (q.fileUuid ? [q.fileUuid] : []))];
        await markSeen(deps.db, projectKey, run.runId, listed);
        await countPage(deps, run, page.items.length, counts);
        const t = page.totals;
        deps.onPage?.({
          lane: "reconcile",
          pages: run.counts.pages,
          seen: run.counts.seen,
          expected: t ? (t.stored ?? 0) + (t.unstored ?? 0) + (t.removed ?? 0) : null,
        });
      }
    }
    // Only a scan that reached the end of both lists may call anything missing.
    deps.signal?.throwIfAborted();
    await markUnseen(deps, projectKey, run.runId, scanStartedAt);
  } finally {
    await deps.db.execute(sql`delete from reconcile_seen where project_key = ${projectKey} and run_id = ${run.runId}`);
  }
}

async function markSeen(db: Db, projectKey: string, runId: string, uuids: string[]): Promise<void> {
  if (uuids.length === 0) return;
  await db.execute(sql`
    insert into reconcile_seen (project_key, run_id, uuid)
    select ${projectKey}, ${runId}, u from unnest(${sql.param(uuids)}::uuid[]) as u
    on conflict do nothing`);
}

async function markUnseen(deps: LaneDeps, projectKey: string, runId: string, scanStartedAt: string): Promise<void> {
  const observedAt = dateToTimestamp(deps.now());
  // Fresh statistics, or the planner (PGlite has no autovacuum) guesses one seen row
  // and picks a nested loop that is quadratic in the project's size.
  await deps.db.execute(sql`analyze reconcile_seen`);
  await deps.db.transaction(async (tx) => {
    await deps.fence?.(tx);
    const head = await lockChainHead(tx, projectKey);
    // Files first seen after the scan began (a webhook, a concurrent lane) were not due to be
    // listed, and a file observed alive after it began is not missing whatever the scan saw.
    const counted = await queryRows<{ uuid: string; missed_scans: number }>(
      tx,
      sql`update files f set missed_scans = f.missed_scans + 1
          where f.project_key = ${projectKey} and f.missing_since is null and f.first_seen_at < ${scanStartedAt}::timestamptz
            and (f.observed_at is null or f.observed_at < ${scanStartedAt}::timestamptz)
            and not exists (select 1 from reconcile_seen s
                            where s.project_key = ${projectKey} and s.run_id = ${runId} and s.uuid = f.uuid)
          returning f.uuid::text as uuid, f.missed_scans`,
    );
    const missing = counted.filter((row) => row.missed_scans >= MISSED_SCANS_FOR_MISSING).map((row) => row.uuid);
    if (missing.length === 0) return;
    await tx.execute(sql`
      update files set missing_since = ${observedAt}::timestamptz, updated_at = ${observedAt}::timestamptz
      where project_key = ${projectKey} and uuid = any(${sql.param(missing)}::uuid[])`);
    const events: NewEvent[] = missing.map((uuid) => ({
      fileUuid: uuid,
      kind: "missing",
      before: null,
      after: { missed_scans: MISSED_SCANS_FOR_MISSING },
      occurredAt: null,
      observedAt,
      source: "reconcile",
      runId,
      planId: null,
      actor: SYNC_ACTOR,
    }));
    await appendEvents(tx, projectKey, events, head);
  });
}
