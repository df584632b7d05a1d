import type { PlanItem } from "../db/queries/plans.ts";
import { AppError } from "../errors.ts";
import type { UploadcareFile } from "../sync/uploadcare/file-object.ts";
import { mapAdaptive } from "./adaptive-limit.ts";
import type { ActionRun } from "./apply-types.ts";
import { setItems, type ItemChange } from "./items.ts";
import type { TagSpec } from "./action-specs.ts";
import { ALREADY_TAGGED } from "./protection.ts";
import type { Verdict } from "./recheck.ts";
import { deleteMetadataKey, putMetadataKey } from "./uploadcare-writes.ts";

/** One metadata request: a key to set to a value, or to remove (value null). */
interface KeyWrite {
  item: PlanItem;
  key: string;
  value: string | null;
}

/** The requests that make this file's metadata what the tag says; keys already right are left alone. */
export function writesFor(tag: TagSpec, item: PlanItem, file: UploadcareFile): KeyWrite[] {
  const metadata = file.metadata ?? {};
  const writes: KeyWrite[] = [];
  for (const [key, value] of Object.entries(tag.set ?? {})) {
    if (!Object.hasOwn(metadata, key) || metadata[key] !== value) writes.push({ item, key, value });
  }
  for (const key of tag.remove ?? []) if (Object.hasOwn(metadata, key)) writes.push({ item, key, value: null });
  return writes;
}

/** The file as the writes leave it (what the ledger records). */
function tagged(file: UploadcareFile, writes: KeyWrite[]): UploadcareFile {
  const metadata: Record<string, string> = { ...(file.metadata ?? {}) };
  for (const w of writes) {
    if (w.value === null) delete metadata[w.key];
    else metadata[w.key] = w.value;
  }
  return { ...file, metadata };
}

type WriteOutcome = { ok: true } | { ok: false; skip: string } | { ok: false; fail: string };

/**
 * One batch of a tag plan. Each file is re-read and judged (held, changed,
 * already tagged: skipped with the reason), the rest are marked `sending`
 * (committed before any request), then one request per file and key that is
 * not already right, at most `limit` at a time, fewer after 429s. A retry of
 * a request is preceded by another look at its file: one that is now held
 * or changed is withdrawn and the item skipped. Each item ends done (the
 * ledger records the new metadata with the plan id), skipped or failed.
 */
export async function applyTagBatch(run: ActionRun, items: PlanItem[], batch: number): Promise<void> {
  const tag = run.specs.tag!;
  const go = await run.judge(items);
  if (go.length === 0) return;
  const now = () => run.deps.now();
  const target = { projectKey: run.plan.projectKey, planId: run.plan.id };
  await run.deps.db.transaction((tx) =>
    setItems(tx, target, ["pending"], go.map((v) => ({ fileUuid: v.item.fileUuid, status: "sending" })), { now: now(), batch }),
  );

  const byFile = new Map<string, { verdict: Verdict; writes: KeyWrite[] }>();
  for (const v of go) byFile.set(v.item.fileUuid, { verdict: v, writes: writesFor(tag, v.item, v.file!) });
  const withdrawn = new Map<string, string>();
  const outcomes = await mapAdaptive([...byFile.values()].flatMap((f) => f.writes), run.limit, async (w): Promise<WriteOutcome> => {
    if (withdrawn.has(w.item.fileUuid)) return { ok: false, skip: withdrawn.get(w.item.fileUuid)! };
    let retried = false;
    const beforeRetry = async () => {
      retried = true;
      run.limit.throttled();
      const [again] = await run.recheck([w.item]);
      if (again?.skipReason && again.skipReason !== ALREADY_TAGGED) {
        withdrawn.set(w.item.fileUuid, again.skipReason);
        return false;
      }
      return true;
    };
    try {
      if (w.value === null) await deleteMetadataKey(run.client, { uuid: w.item.fileUuid, key: w.key }, { beforeRetry });
      else await putMetadataKey(run.client, { uuid: w.item.fileUuid, key: w.key, value: w.value }, { beforeRetry });
      if (!retried) run.limit.succeeded();
      return { ok: true };
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const skip = withdrawn.get(w.item.fileUuid);
      return skip ? { ok: false, skip } : { ok: false, fail: `${w.value === null ? "removing" : "setting"} ${w.key} failed: ${err.message}` };
    }
  });

  const results = new Map<string, WriteOutcome[]>();
  [...byFile.values()].flatMap((f) => f.writes).forEach((w, i) => results.set(w.item.fileUuid, [...(results.get(w.item.fileUuid) ?? []), outcomes[i]!]));
  const done: UploadcareFile[] = [];
  const changes: ItemChange[] = [];
  for (const [uuid, { verdict, writes }] of byFile) {
    const got = results.get(uuid) ?? [];
    const failed = got.find((o): o is { ok: false; fail: string } => "fail" in o);
    const skipped = got.find((o): o is { ok: false; skip: string } => "skip" in o);
    if (writes.length === 0) changes.push({ fileUuid: uuid, status: "skipped", reason: ALREADY_TAGGED });
    else if (failed) changes.push({ fileUuid: uuid, status: "failed", reason: failed.fail });
    else if (skipped) changes.push({ fileUuid: uuid, status: "skipped", reason: `${skipped.skip} (before all its keys were written)` });
    else done.push(tagged(verdict.file!, writes));
  }
  await run.record(done, changes);
  run.summary.done += done.length;
  run.summary.failed += changes.filter((c) => c.status === "failed").length;
  run.summary.skipped += changes.filter((c) => c.status === "skipped").length;
}
