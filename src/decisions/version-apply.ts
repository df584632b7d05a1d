import { appendEvents } from "../db/audit/chain.ts";
import { insertFileVersions, type NewFileVersion } from "../db/queries/file-versions.ts";
import { planItemsWithStatus, type PlanItem } from "../db/queries/plans.ts";
import { dateToTimestamp } from "../db/timestamps.ts";
import { AppError } from "../errors.ts";
import { admitFile } from "../sync/files/admit.ts";
import { writeFiles } from "../sync/files/write-files.ts";
import { BATCH_UUIDS_MAX } from "../sync/uploadcare/client.ts";
import type { UploadcareFile } from "../sync/uploadcare/file-object.ts";
import { VERSION_OF_KEY, VERSION_PLAN_KEY } from "./action-specs.ts";
import { mapAdaptive } from "./adaptive-limit.ts";
import type { ActionRun } from "./apply-types.ts";
import { setItems, type ItemChange } from "./items.ts";
import { localCopy } from "./uploadcare-writes.ts";
import { findPlanCopies, readCopy } from "./version-copies.ts";

/*
 * The version action: `POST /files/local_copy/` of each file (with the
 * plan's CDN operations, stored, marked with metadata naming its original
 * and the plan), then, when the plan deletes originals, the batch delete of
 * the originals whose copy Uploadcare confirmed (apply.ts, as for archive).
 * A copy is made at most once per original: the item is `copying` before the
 * request, and a rerun or a retry first looks for a copy carrying the marker.
 */

const target = (run: ActionRun) => ({ projectKey: run.plan.projectKey, planId: run.plan.id });

function sourceOf(run: ActionRun, item: PlanItem): string {
  const ops = run.specs.versionSpec!.operations;
  return ops ? `${item.fileUuid}/${ops}` : item.fileUuid;
}

type CopyOutcome = { item: PlanItem; copy: UploadcareFile } | { item: PlanItem; failed: string };

/**
 * Makes each item's copy and confirms it (read back: stored, ready, its real
 * size). A retried request is preceded by a search for the copy: when the
 * failed attempt made it after all, that one is taken and no other made.
 * Answers the items now `copied`; failed copies fail their item, and their
 * original is never deleted.
 */
export async function copyVersions(run: ActionRun, toCopy: PlanItem[], batch: number): Promise<PlanItem[]> {
  if (toCopy.length === 0) return [];
  const sentAt = run.deps.now();
  await run.deps.db.transaction((tx) =>
    setItems(tx, target(run), ["pending"], toCopy.map((i) => ({ fileUuid: i.fileUuid, status: "copying" })), { now: sentAt, batch }),
  );
  const outcomes = await mapAdaptive(toCopy, run.limit, async (item): Promise<CopyOutcome> => {
    let retried = false;
    let found: string | undefined;
    const beforeRetry = async () => {
      retried = true;
      run.limit.throttled();
      found = (await findPlanCopies(run.client, run.plan.id, sentAt)).get(item.fileUuid);
      return found === undefined;
    };
    try {
      let uuid: string;
      try {
        const metadata = { [VERSION_OF_KEY]: item.fileUuid, [VERSION_PLAN_KEY]: run.plan.id };
        uuid = (await localCopy(run.client, { source: sourceOf(run, item), metadata }, { beforeRetry })).uuid;
      } catch (err) {
        if (found === undefined) throw err;
        uuid = found;
      }
      if (!retried) run.limit.succeeded();
      return { item, copy: await readCopy(run.client, uuid) };
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return { item, failed: `copy failed: ${err.message}` };
    }
  });
  await recordCopies(run, outcomes);
  return outcomes.flatMap((o) => ("copy" in o ? [{ ...o.item, status: "copied" as const, copyUuid: o.copy.uuid.toLowerCase(), copySize: o.copy.size }] : []));
}

/**
 * Items `copying` when a run stopped: the copy is looked for by its marker.
 * Found, the item is `copied` (recorded as if the answer had arrived);
 * not found, the request never made it, and the item is copied again.
 */
export async function recoverVersionCopies(run: ActionRun): Promise<void> {
  for (;;) {
    const stuck = await planItemsWithStatus(run.deps.db, run.plan.projectKey, run.plan.id, ["copying"], BATCH_UUIDS_MAX);
    if (stuck.length === 0) return;
    const since = new Date(Math.min(...stuck.map((i) => Date.parse(i.sentAt ?? run.plan.proposedAt))));
    const copies = await findPlanCopies(run.client, run.plan.id, since);
    const outcomes: CopyOutcome[] = [];
    const requeue: ItemChange[] = [];
    for (const item of stuck) {
      const uuid = copies.get(item.fileUuid);
      if (!uuid) requeue.push({ fileUuid: item.fileUuid, status: "pending" });
      else {
        try {
          outcomes.push({ item, copy: await readCopy(run.client, uuid) });
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          outcomes.push({ item, failed: `copy failed: ${err.message}` });
        }
      }
    }
    await run.deps.db.transaction((tx) => setItems(tx, target(run), ["copying"], requeue, { now: run.deps.now() }));
    await recordCopies(run, outcomes);
    run.summary.recovered += outcomes.filter((o) => "copy" in o).length;
  }
}

/**
 * In one transaction: each copy into the ledger (its `uploaded`/`stored`
 * events carry the plan id), its link to the original (file_versions), an
 * `action` event on each side naming the other and the plan, and the items
 * `copied` with the copy and its size, or `failed`.
 */
async function recordCopies(run: ActionRun, outcomes: CopyOutcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const now = run.deps.now();
  const at = dateToTimestamp(now);
  const ops = run.specs.versionSpec!.operations;
  const made = outcomes.flatMap((o) => ("copy" in o ? [o] : []));
  const admitted = made.map((o) => admitFile(o.copy, "file_info", at));
  const versions: NewFileVersion[] = made.map((o) => ({
    originalUuid: o.item.fileUuid,
    copyUuid: o.copy.uuid.toLowerCase(),
    planId: run.plan.id,
    operations: ops,
    originalSize: o.item.size,
    copySize: o.copy.size,
  }));
  const changes: ItemChange[] = outcomes.map((o) =>
    "copy" in o
      ? { fileUuid: o.item.fileUuid, status: "copied", reason: null, copyUuid: o.copy.uuid.toLowerCase(), copySize: o.copy.size }
      : { fileUuid: o.item.fileUuid, status: "failed", reason: o.failed },
  );
  await writeFiles(
    run.deps.db,
    { projectKey: run.plan.projectKey, source: "action", runId: run.runId, actor: run.actor, now: () => now, planId: run.plan.id },
    admitted.flatMap((a) => (a.record ? [a.record] : [])),
    async (tx) => {
      // Only links not recorded yet get their events: a rerun that finds a recorded copy adds nothing twice.
      const fresh = new Set(await insertFileVersions(tx, run.plan.projectKey, versions, now));
      if (fresh.size > 0) {
        const event = (fileUuid: string, after: Record<string, unknown>) => ({
          fileUuid, kind: "action" as const, before: null, after, occurredAt: at, observedAt: at, source: "action" as const, runId: run.runId, planId: run.plan.id, actor: run.actor,
        });
        await appendEvents(
          tx,
          run.plan.projectKey,
          versions.filter((v) => fresh.has(v.copyUuid)).flatMap((v) => [
            event(v.originalUuid, { event: "version_created", copy: v.copyUuid, operations: v.operations, size: v.originalSize, copySize: v.copySize }),
            event(v.copyUuid, { event: "version_of", original: v.originalUuid, operations: v.operations, size: v.copySize, originalSize: v.originalSize }),
          ]),
        );
      }
      await setItems(tx, target(run), ["copying"], changes, { now });
    },
    admitted.flatMap((a) => (a.quarantine ? [a.quarantine] : [])),
  );
  run.summary.failed += outcomes.length - made.length;
}

/** A version plan that keeps its originals: each confirmed copy finishes its item. */
export async function finishUndeletedVersions(run: ActionRun, copied: PlanItem[]): Promise<void> {
  if (copied.length === 0) return;
  await run.record([], copied.map((i) => ({ fileUuid: i.fileUuid, status: "done", reason: null })), ["copied"]);
  run.summary.done += copied.length;
}
