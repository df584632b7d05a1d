import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import type { PlanItem, PlanRecord } from "../db/queries/plans.ts";
import { queryRows } from "../db/query.ts";
import type { FileState, PolicyAction } from "../db/schema/index.ts";
import { UpstreamError } from "../errors.ts";
import type { UploadcareClient } from "../sync/uploadcare/client.ts";
import type { UploadcareFile } from "../sync/uploadcare/file-object.ts";
import { compileConditions, STATE_SQL, type Condition } from "./conditions.ts";
import type { PlanOptions } from "./options.ts";
import { TagSpec, VersionSpec } from "./action-specs.ts";
import { actionScope, compileProtection, type ActionSpecs } from "./protection.ts";

/** Files re-read from Uploadcare at once. */
export const REREAD_CONCURRENCY = 8;

/** Runs `fn` over `items`, at most `limit` at a time, answers in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** A file as Uploadcare answers it now, or null when Uploadcare does not know it. */
export type Reread = UploadcareFile | null;

/**
 * Each file's current state from Uploadcare, with appdata. A 404 is an answer
 * (the file is gone); any other failure stops the caller, so nothing is sent
 * on a guess.
 */
export async function rereadFiles(client: UploadcareClient, uuids: readonly string[], concurrency = REREAD_CONCURRENCY): Promise<Map<string, Reread>> {
  const answers = await mapLimit(uuids, concurrency, async (uuid) => {
    try {
      return [uuid, await client.fileInfo(uuid)] as const;
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 404) return [uuid, null] as const;
      throw err;
    }
  });
  return new Map(answers);
}

export function stateOf(file: Pick<UploadcareFile, "datetime_removed" | "datetime_stored">): FileState {
  return file.datetime_removed ? "removed" : file.datetime_stored ? "stored" : "unstored";
}

/** What a tag or version plan froze it does to each file. */
export function planSpecs(plan: Pick<PlanRecord, "action" | "policy">): ActionSpecs {
  return {
    tag: plan.action === "tag" ? TagSpec.parse(plan.policy["tag"]) : null,
    versionSpec: plan.action === "version" ? VersionSpec.parse(plan.policy["versionSpec"]) : null,
  };
}

/** Whether the file's metadata is what the tag makes it. */
export function isTagged(tag: TagSpec, file: Pick<UploadcareFile, "metadata">): boolean {
  const metadata = file.metadata ?? {};
  return (
    Object.entries(tag.set ?? {}).every(([k, v]) => Object.hasOwn(metadata, k) && metadata[k] === v) &&
    (tag.remove ?? []).every((k) => !Object.hasOwn(metadata, k))
  );
}

/** Whether Uploadcare shows the action as done on this file (version: the original deleted, the step after its copy). */
export function actionTookEffect(action: PolicyAction, file: UploadcareFile, specs: ActionSpecs = {}): boolean {
  if (action === "tag") return specs.tag ? isTagged(specs.tag, file) : false;
  return action === "store" ? stateOf(file) === "stored" : stateOf(file) === "removed";
}

/**
 * A tag plan's file as its conditions are judged: keys the plan itself may
 * already have written (by a run that stopped half-way through the file) are
 * put back to their values at proposal, so the plan's own writes never count
 * as "changed since the plan". The writes themselves are decided on the file
 * as it is.
 */
function beforeOwnTags(tag: TagSpec, file: UploadcareFile, evidence: Record<string, unknown>): Record<string, string> {
  const metadata: Record<string, string> = { ...(file.metadata ?? {}) };
  const restore = (key: string, written: boolean) => {
    const frozen = `metadata.${key}`;
    if (!written || !Object.hasOwn(evidence, frozen)) return;
    const value = evidence[frozen];
    if (typeof value === "string") metadata[key] = value;
    else delete metadata[key];
  };
  for (const [k, v] of Object.entries(tag.set ?? {})) restore(k, metadata[k] === v);
  for (const k of tag.remove ?? []) restore(k, !Object.hasOwn(metadata, k));
  return metadata;
}

export interface Verdict {
  item: PlanItem;
  file: UploadcareFile | null;
  /** Null: still as planned, go ahead. */
  skipReason: string | null;
}

interface EvaluatedRow {
  uuid: string;
  state: FileState;
  matches: boolean;
  protection: string | null;
  same_evidence: boolean;
  evidence: Record<string, unknown>;
}

function stateReason(planned: FileState, now: FileState): string {
  if (now === "removed") return "removed since the plan (by someone else, or expired)";
  if (planned === "unstored" && now === "stored") return "stored by someone else since the plan";
  return `state changed since the plan: ${planned} → ${now}`;
}

function evidenceReason(before: Record<string, unknown>, after: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const changed = keys
    .filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null))
    .map((k) => `${k} ${JSON.stringify(before[k] ?? null)} → ${JSON.stringify(after[k] ?? null)}`);
  return `changed since the plan: ${changed.join("; ") || "evidence differs"}`;
}

/**
 * Judges each planned file as Uploadcare has it now, with the SQL the plan
 * was proposed with: the policy's conditions at the proposal's time, its
 * evidence compared with the frozen evidence, and the protection rules at
 * the current time. A file that changed in any way the plan looked at, or is
 * now protected, is skipped with the reason.
 */
export async function judgeFiles(
  db: Queryable,
  input: { plan: PlanRecord; conditions: Condition[]; options: PlanOptions; now: Date; items: PlanItem[]; files: Map<string, Reread> },
): Promise<Verdict[]> {
  const { plan } = input;
  const specs = planSpecs(plan);
  const present = input.items.filter((i) => input.files.get(i.fileUuid));
  const rows = present.map((i) => {
    const f = input.files.get(i.fileUuid)!;
    return {
      uuid: i.fileUuid,
      datetime_uploaded: f.datetime_uploaded,
      datetime_stored: f.datetime_stored,
      datetime_removed: f.datetime_removed,
      size: f.size,
      mime_type: f.mime_type,
      original_filename: f.original_filename,
      metadata: specs.tag ? beforeOwnTags(specs.tag, f, i.evidence) : (f.metadata ?? {}),
      appdata: f.appdata ?? null,
    };
  });
  const evaluated = new Map<string, EvaluatedRow>();
  if (rows.length > 0) {
    const compiled = compileConditions(input.conditions, { now: new Date(plan.proposedAt), checkedAt: input.now });
    const result = await queryRows<EvaluatedRow>(
      db,
      sql`with f as (
            select ${plan.projectKey}::text as project_key, r.uuid, r.datetime_uploaded, r.datetime_stored, r.datetime_removed, r.size,
                   r.mime_type, r.original_filename, coalesce(r.metadata, '{}'::jsonb) as metadata, r.appdata, null::timestamptz as missing_since
            from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(uuid uuid, datetime_uploaded timestamptz, datetime_stored timestamptz,
                 datetime_removed timestamptz, size bigint, mime_type text, original_filename text, metadata jsonb, appdata jsonb)
          )
          select f.uuid::text as uuid, ${STATE_SQL} as state, (${actionScope(plan.action)} and ${compiled.where}) as matches,
                 ${compileProtection(plan.action, input.options, input.now, specs)} as protection,
                 (${compiled.evidence}) = i.evidence as same_evidence, ${compiled.evidence} as evidence
          from f join plan_items i on i.project_key = ${plan.projectKey} and i.plan_id = ${plan.id}::uuid and i.file_uuid = f.uuid`,
    );
    for (const r of result) evaluated.set(r.uuid, r);
  }

  return input.items.map((item) => {
    const file = input.files.get(item.fileUuid) ?? null;
    if (!file) return { item, file, skipReason: "not found at Uploadcare" };
    const e = evaluated.get(item.fileUuid);
    if (!e) throw new Error(`plan item ${item.fileUuid} could not be judged`);
    let skipReason: string | null = null;
    if (e.state !== item.state) skipReason = stateReason(item.state, e.state);
    else if (e.protection) skipReason = e.protection;
    else if (!e.same_evidence) skipReason = evidenceReason(item.evidence, e.evidence);
    else if (!e.matches) skipReason = "no longer matches the policy";
    return { item, file, skipReason };
  });
}
