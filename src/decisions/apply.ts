import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { currentPlanStatus, findPlan, lastPlanBatch, planItemCounts, planItemsWithStatus, type PlanItem, type PlanRecord } from "../db/queries/plans.ts";
import { queryRows } from "../db/query.ts";
import { dateToTimestamp } from "../db/timestamps.ts";
import { AppError, ConflictError } from "../errors.ts";
import { writeFiles } from "../sync/files/write-files.ts";
import { admitFile } from "../sync/files/admit.ts";
import { BATCH_UUIDS_MAX, type BatchResult } from "../sync/uploadcare/client.ts";
import { UploadcareFile } from "../sync/uploadcare/file-object.ts";
import { Condition } from "./conditions.ts";
import { setItems, type ItemChange } from "./items.ts";
import { recordPlanEvents } from "./lifecycle.ts";
import { checkFrozenProtection, FrozenOptions, overlay } from "./frozen-plan.ts";
import { DEFAULT_PROTECTION_SETTINGS, shouldHalt } from "./options.ts";
import { ArchiveTarget } from "./policy.ts";
import { actionTookEffect, judgeFiles, mapLimit, planSpecs, rereadFiles, type Verdict } from "./recheck.ts";
import { expirePlans } from "./review.ts";
import { AdaptiveLimit } from "./adaptive-limit.ts";
import { applyTagBatch } from "./tag-apply.ts";
import { copyVersions, finishUndeletedVersions, recoverVersionCopies } from "./version-apply.ts";
import type { ActionRun, ApplyDeps, ApplySummary } from "./apply-types.ts";
import type { PlanItemStatus } from "../db/schema/index.ts";

export type { ApplyDeps, ApplySummary, BatchProgress } from "./apply-types.ts";

export interface StartedApply {
  plan: PlanRecord;
  /** Works the plan through; resolves when it is applied, halted or cancelled. Releases the plan's lock. */
  run(): Promise<ApplySummary>;
}


/**
 * Takes the plan's lock and moves it to `applying` (from `approved`, or
 * resumes one left `applying` by a run that stopped). Everything that can
 * refuse the apply refuses here, before any background work starts.
 */
export async function startApply(deps: ApplyDeps, input: { planId: string; projectKeys: string[]; actor: string }): Promise<StartedApply> {
  const found = await findPlan(deps.db, input.planId, input.projectKeys);
  await expirePlans(deps, [found.projectKey]);
  const release = await deps.lock.tryAcquire(found.projectKey, found.id);
  if (!release) throw new ConflictError(`plan ${found.id} is being applied already`);
  try {
    const now = deps.now();
    const at = dateToTimestamp(now);
    await deps.db.transaction(async (tx) => {
      const plan = await findPlan(tx, found.id, [found.projectKey], { forUpdate: true });
      if (plan.status === "proposed") {
        throw new ConflictError(`plan ${plan.id} is not approved yet: it needs ${plan.requiredApprovals} approval(s)`);
      }
      if (plan.status !== "approved" && plan.status !== "applying") {
        throw new ConflictError(`plan ${plan.id} is ${plan.status}: only an approved plan can be applied`);
      }
      checkFrozenProtection(plan, deps.protection ?? DEFAULT_PROTECTION_SETTINGS);
      await tx.execute(sql`update plans set status = 'applying', applied_by = ${input.actor}, last_error = null,
                             apply_started_at = coalesce(apply_started_at, ${at}::timestamptz), updated_at = ${at}::timestamptz
                           where project_key = ${plan.projectKey} and id = ${plan.id}::uuid`);
      await recordPlanEvents(tx, plan.projectKey, [
        { planId: plan.id, actor: input.actor, now, from: plan.status, to: "applying", event: plan.status === "approved" ? "apply_started" : "apply_resumed" },
      ]);
    });
    const plan = await findPlan(deps.db, found.id, [found.projectKey]);
    return { plan, run: () => runApply(deps, plan, input.actor).finally(release) };
  } catch (err) {
    await release();
    throw err;
  }
}


interface RunContext extends ActionRun {
  conditions: Condition[];
  archive: ArchiveTarget | null;
  /** Items done and failed before this run started. */
  earlier: { done: number; failed: number };
}

async function runApply(deps: ApplyDeps, plan: PlanRecord, actor: string): Promise<ApplySummary> {
  const runId = randomUUID();
  const concurrency = deps.concurrency ?? 8;
  const ctx: RunContext = {
    deps,
    plan,
    actor,
    runId,
    client: deps.client.forRun(runId),
    conditions: [],
    options: FrozenOptions.parse(plan.options),
    specs: {},
    archive: null,
    concurrency,
    limit: new AdaptiveLimit({ initial: concurrency, max: concurrency * 2 }),
    earlier: { done: 0, failed: 0 },
    summary: { planId: plan.id, projectKey: plan.projectKey, status: "applying", batches: 0, done: 0, skipped: 0, failed: 0, recovered: 0, haltReason: null },
    recheck: (items) => recheck(ctx, items),
    judge: (items) => judgeVerdicts(ctx, items),
    record: (done, changes, from) => recordResults(ctx, done, changes, from),
  };
  const log = deps.logger.child({ module: "decisions.apply", project: plan.projectKey, plan: plan.id, runId });
  try {
    ctx.conditions = z.array(Condition).parse(plan.policy["conditions"]);
    ctx.archive = plan.action === "archive" ? ArchiveTarget.parse(plan.policy["archive"]) : null;
    ctx.specs = planSpecs(plan);
    // Outcomes of earlier runs count towards the halting threshold; this run's are added as they come.
    const earlier = await planItemCounts(ctx.deps.db, target(ctx));
    ctx.earlier = { done: earlier.done, failed: earlier.failed };
    await recoverInterrupted(ctx);
    let batch = await lastPlanBatch(ctx.deps.db, target(ctx));
    for (;;) {
      const status = await currentPlanStatus(ctx.deps.db, target(ctx));
      if (status !== "applying") {
        ctx.summary.status = status;
        log.warn({ status }, "apply stopped: the plan is no longer applying");
        return ctx.summary;
      }
      const items = await planItemsWithStatus(deps.db, plan.projectKey, plan.id, ["pending", "copied"], BATCH_UUIDS_MAX);
      if (items.length === 0) {
        await finish(ctx);
        log.info({ ...ctx.summary }, "plan applied");
        return ctx.summary;
      }
      batch += 1;
      ctx.summary.batches += 1;
      const before = { ...ctx.summary };
      await runBatch(ctx, items, batch);
      const progress = {
        batch,
        sent: ctx.summary.done + ctx.summary.failed - before.done - before.failed,
        done: ctx.summary.done - before.done,
        failed: ctx.summary.failed - before.failed,
        skipped: ctx.summary.skipped - before.skipped,
      };
      log.info(progress, "plan batch finished");
      deps.onBatch?.(progress);
      if (await haltIfFailing(ctx)) {
        log.warn({ haltReason: ctx.summary.haltReason }, "plan halted");
        return ctx.summary;
      }
    }
  } catch (err) {
    const message = err instanceof AppError ? err.message : "internal error (see the logs)";
    log.error({ err: { name: (err as Error).name, message: (err as Error).message } }, "apply stopped by an error; rerun apply to resume");
    await deps.db.execute(sql`update plans set last_error = ${message}, updated_at = ${dateToTimestamp(deps.now())}::timestamptz
                              where project_key = ${plan.projectKey} and id = ${plan.id}::uuid`);
    throw err;
  }
}

const target = (ctx: RunContext) => ({ projectKey: ctx.plan.projectKey, planId: ctx.plan.id });

/**
 * Settles what an interrupted run left in flight. A `sending` item's request
 * may or may not have reached Uploadcare, so it is re-read, never resent
 * blindly: done if Uploadcare shows the action took effect, otherwise back in
 * the queue (where it is judged again before anything is sent). An
 * interrupted copy is simply made again: Uploadcare answers an existing
 * destination with 200, and nothing was deleted yet.
 */
async function recoverInterrupted(ctx: RunContext): Promise<void> {
  const { deps } = ctx;
  // A version copy may exist though its answer was lost: found by its marker, never made twice.
  if (ctx.specs.versionSpec) await recoverVersionCopies(ctx);
  await deps.db.execute(sql`update plan_items set status = 'pending', updated_at = ${dateToTimestamp(deps.now())}::timestamptz
                            where project_key = ${ctx.plan.projectKey} and plan_id = ${ctx.plan.id}::uuid and status = 'copying'`);
  for (;;) {
    const stuck = await planItemsWithStatus(deps.db, ctx.plan.projectKey, ctx.plan.id, ["sending"], BATCH_UUIDS_MAX);
    if (stuck.length === 0) return;
    const files = await rereadFiles(ctx.client, stuck.map((i) => i.fileUuid), ctx.concurrency);
    const done: UploadcareFile[] = [];
    const changes: ItemChange[] = [];
    for (const item of stuck) {
      const file = files.get(item.fileUuid) ?? null;
      if (!file) changes.push({ fileUuid: item.fileUuid, status: "skipped", reason: "not found at Uploadcare" });
      else if (actionTookEffect(ctx.plan.action, file, ctx.specs)) done.push(file);
      else changes.push({ fileUuid: item.fileUuid, status: ctx.plan.action === "archive" || ctx.plan.action === "version" ? "copied" : "pending", reason: null });
    }
    await recordResults(ctx, done, changes);
    ctx.summary.recovered += done.length;
    ctx.summary.done += done.length;
  }
}

/**
 * One batch. Archive: judge the pending files and copy the ones still as
 * planned (minutes, for large files). Then, for every action, the last look:
 * re-read each file and judge it again immediately before the request that
 * changes it (a hold set during the copies saves the file), persist
 * `sending`, send one batch request of at most 100 uuids (each retry of it is
 * preceded by another look), and record each item's result together with the
 * ledger's new state of the file and its audit events.
 */
async function runBatch(ctx: RunContext, items: PlanItem[], batch: number): Promise<void> {
  if (ctx.specs.tag) return applyTagBatch(ctx, items, batch);
  let ready = items;
  if (ctx.archive || ctx.specs.versionSpec) {
    const toCopy = await judgeNow(ctx, items.filter((i) => i.status === "pending"));
    const made = ctx.archive ? await copyToArchive(ctx, toCopy, batch) : await copyVersions(ctx, toCopy, batch);
    const copied = new Map(made.map((i) => [i.fileUuid, i]));
    ready = items.flatMap((i) => (i.status === "copied" ? [i] : copied.has(i.fileUuid) ? [copied.get(i.fileUuid)!] : []));
  }
  // A version plan that keeps its originals is done once the copies are.
  if (ctx.specs.versionSpec && !ctx.specs.versionSpec.deleteOriginal) return finishUndeletedVersions(ctx, ready);
  const go = await judgeVerdicts(ctx, ready);
  if (go.length > 0) await send(ctx, go, batch);
}

/**
 * Re-reads the items' files and judges them as they are now; those that
 * changed or are protected are skipped with the reason (and where their copy
 * stays); answers the verdicts of the rest.
 */
async function recheck(ctx: RunContext, items: PlanItem[]): Promise<Verdict[]> {
  if (items.length === 0) return [];
  const files = await rereadFiles(ctx.client, items.map((i) => i.fileUuid), ctx.concurrency);
  return judgeFiles(ctx.deps.db, { plan: ctx.plan, conditions: ctx.conditions, options: ctx.options, now: ctx.deps.now(), items, files });
}

async function judgeVerdicts(ctx: RunContext, items: PlanItem[]): Promise<Verdict[]> {
  if (items.length === 0) return [];
  const { deps } = ctx;
  const verdicts = await recheck(ctx, items);
  const skipped = verdicts.filter((v) => v.skipReason !== null);
  await deps.db.transaction((tx) =>
    setItems(tx, target(ctx), ["pending", "copied"], skipped.map((v) => skipChange(v)), { now: deps.now() }),
  );
  ctx.summary.skipped += skipped.length;
  return verdicts.filter((v) => v.skipReason === null);
}

async function judgeNow(ctx: RunContext, items: PlanItem[]): Promise<PlanItem[]> {
  return (await judgeVerdicts(ctx, items)).map((v) => v.item);
}

function skipChange(v: Verdict): ItemChange {
  return { fileUuid: v.item.fileUuid, status: "skipped", reason: v.item.copyUrl ? `${v.skipReason} (its copy stays at ${v.item.copyUrl})` : v.skipReason };
}

/**
 * Marks the files `sending` and sends them. A retry of the batch request is
 * never blind: before it, the files still in it are re-read; one the earlier
 * attempt already changed is done, one that changed otherwise or is now
 * protected is skipped with the reason, and only the rest are sent again.
 */
async function send(ctx: RunContext, go: Verdict[], batch: number): Promise<void> {
  const { deps } = ctx;
  const uuids = go.map((v) => v.item.fileUuid);
  await deps.db.transaction((tx) =>
    setItems(tx, target(ctx), ["pending", "copied"], uuids.map((fileUuid) => ({ fileUuid, status: "sending" })), { now: deps.now(), batch }),
  );
  const items = new Map(go.map((v) => [v.item.fileUuid, v.item]));
  const snapshots = new Map(go.map((v) => [v.item.fileUuid, v.file!]));
  const done: UploadcareFile[] = [];
  let sending = uuids;
  const beforeResend = async (): Promise<string[]> => {
    const files = await rereadFiles(ctx.client, sending, ctx.concurrency);
    const again: PlanItem[] = [];
    for (const uuid of sending) {
      const file = files.get(uuid);
      if (file && actionTookEffect(ctx.plan.action, file, ctx.specs)) done.push(file);
      else again.push(items.get(uuid)!);
    }
    const verdicts = await judgeFiles(deps.db, { plan: ctx.plan, conditions: ctx.conditions, options: ctx.options, now: deps.now(), items: again, files });
    const skipped = verdicts.filter((v) => v.skipReason !== null);
    await deps.db.transaction((tx) => setItems(tx, target(ctx), ["sending"], skipped.map((v) => skipChange(v)), { now: deps.now() }));
    ctx.summary.skipped += skipped.length;
    for (const v of verdicts) if (v.file) snapshots.set(v.item.fileUuid, v.file);
    sending = verdicts.filter((v) => v.skipReason === null).map((v) => v.item.fileUuid);
    return sending;
  };

  let answer: BatchResult | null = null;
  let requestError: string | null = null;
  try {
    answer = ctx.plan.action === "store" ? await ctx.client.storeFiles(uuids, { beforeResend }) : await ctx.client.deleteFiles(uuids, { beforeResend });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    requestError = err.message;
  }

  const changes: ItemChange[] = [];
  const unsure: string[] = [];
  for (const uuid of sending) {
    const returned = answer?.done.get(uuid);
    const problem = answer?.problems[uuid];
    if (returned) done.push(overlay(snapshots.get(uuid)!, returned));
    else if (problem !== undefined) changes.push({ fileUuid: uuid, status: "failed", reason: problem });
    else unsure.push(uuid);
  }
  // No answer for these (the request failed, or the answer left them out): ask Uploadcare what happened.
  if (unsure.length > 0) {
    const reread = await rereadFiles(ctx.client, unsure, ctx.concurrency);
    for (const uuid of unsure) {
      const file = reread.get(uuid) ?? null;
      if (file && actionTookEffect(ctx.plan.action, file, ctx.specs)) done.push(file);
      else changes.push({ fileUuid: uuid, status: "failed", reason: requestError ? `request failed: ${requestError}` : "missing from Uploadcare's answer and not done" });
    }
  }
  await recordResults(ctx, done, changes);
  ctx.summary.done += done.length;
  ctx.summary.failed += changes.length;
}

/**
 * Archive, step one: copy each file to the custom storage. An item is marked
 * `copying` before its request and `copied` (with the destination) only when
 * Uploadcare confirms; a failed copy fails the item, so its file is never
 * deleted. Answers the copied items as they now are.
 */
async function copyToArchive(ctx: RunContext, toCopy: PlanItem[], batch: number): Promise<PlanItem[]> {
  const { deps } = ctx;
  const archive = ctx.archive!;
  if (toCopy.length === 0) return [];
  await deps.db.transaction((tx) =>
    setItems(tx, target(ctx), ["pending"], toCopy.map((i) => ({ fileUuid: i.fileUuid, status: "copying" })), { now: deps.now(), batch }),
  );
  const results = await mapLimit(toCopy, ctx.concurrency, async (item) => {
    try {
      const { url } = await ctx.client.copyToRemote({ source: item.fileUuid, target: archive.target, pattern: archive.pattern, makePublic: archive.makePublic });
      return { fileUuid: item.fileUuid, status: "copied" as const, copyUrl: url, reason: null };
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return { fileUuid: item.fileUuid, status: "failed" as const, reason: `copy failed: ${err.message}` };
    }
  });
  await deps.db.transaction((tx) => setItems(tx, target(ctx), ["copying"], results, { now: deps.now() }));
  ctx.summary.failed += results.filter((r) => r.status === "failed").length;
  const copied = new Map(results.flatMap((r) => (r.status === "copied" ? [[r.fileUuid, r.copyUrl] as const] : [])));
  return toCopy.flatMap((i) => (copied.has(i.fileUuid) ? [{ ...i, status: "copied" as const, copyUrl: copied.get(i.fileUuid)! }] : []));
}


/**
 * Item results, the ledger's copy of each done file and its audit events
 * (source `action`, the actor, the plan) in one transaction: writeFiles runs
 * the item updates inside its own.
 */
async function recordResults(ctx: RunContext, done: UploadcareFile[], changes: ItemChange[], from: PlanItemStatus[] = ["sending"]): Promise<void> {
  const { deps } = ctx;
  const now = deps.now();
  // Uploadcare's answer is a snapshot like any other: admitted (a NUL stored as its substitute), observed now.
  const admitted = done.map((f) => admitFile(f, "file_info", dateToTimestamp(now)));
  await writeFiles(
    deps.db,
    { projectKey: ctx.plan.projectKey, source: "action", runId: ctx.runId, actor: ctx.actor, now: () => now, planId: ctx.plan.id },
    admitted.flatMap((a) => (a.record ? [a.record] : [])),
    async (tx) => {
      await setItems(tx, target(ctx), from, done.map((f) => ({ fileUuid: f.uuid.toLowerCase(), status: "done", reason: null })), { now });
      await setItems(tx, target(ctx), from, changes, { now });
    },
    admitted.flatMap((a) => (a.quarantine ? [a.quarantine] : [])),
  );
}

/** Moves the plan from `applying` to `to`, with its audit event; false when it was no longer applying. */
async function closePlan(ctx: RunContext, to: "applied" | "halted", details: Record<string, unknown>, haltReason: string | null): Promise<boolean> {
  const now = ctx.deps.now();
  const at = dateToTimestamp(now);
  return ctx.deps.db.transaction(async (tx) => {
    const rows = await queryRows<{ id: string }>(
      tx,
      sql`update plans set status = ${to}, finished_at = ${at}::timestamptz, halt_reason = ${haltReason}, updated_at = ${at}::timestamptz
          where project_key = ${ctx.plan.projectKey} and id = ${ctx.plan.id}::uuid and status = 'applying' returning id::text as id`,
    );
    if (rows.length === 0) return false;
    await recordPlanEvents(tx, ctx.plan.projectKey, [{ planId: ctx.plan.id, actor: ctx.actor, now, from: "applying", to, event: to, details }]);
    return true;
  });
}

async function finish(ctx: RunContext): Promise<void> {
  const counts = await planItemCounts(ctx.deps.db, target(ctx));
  ctx.summary.status = (await closePlan(ctx, "applied", counts, null)) ? "applied" : await currentPlanStatus(ctx.deps.db, target(ctx));
}

/** Halts the plan when failures pass its threshold; answers whether it did. */
async function haltIfFailing(ctx: RunContext): Promise<boolean> {
  if (!shouldHalt(ctx.options, ctx.earlier.done + ctx.summary.done, ctx.earlier.failed + ctx.summary.failed)) return false;
  const counts = await planItemCounts(ctx.deps.db, target(ctx));
  const attempted = counts.done + counts.failed;
  const reason =
    `${counts.failed} of ${attempted} attempted items failed (${((100 * counts.failed) / attempted).toFixed(1)}%), ` +
    `more than the plan's ${(100 * ctx.options.haltFailureRate).toFixed(1)}% limit`;
  if (await closePlan(ctx, "halted", { ...counts, reason }, reason)) {
    ctx.summary.status = "halted";
    ctx.summary.haltReason = reason;
  } else {
    ctx.summary.status = await currentPlanStatus(ctx.deps.db, target(ctx));
  }
  return true;
}
