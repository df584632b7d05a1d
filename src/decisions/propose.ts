import type { ApprovalSettings } from "./review.ts";
import { randomUUID } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Db, Queryable } from "../db/client.ts";
import { findPolicy, type PolicyRecord } from "../db/queries/policies.ts";
import { findPlan, type PlanRecord } from "../db/queries/plans.ts";
import { queryRows } from "../db/query.ts";
import type { FileState, PolicyAction } from "../db/schema/index.ts";
import { canonicalTimestampOrNull, dateToTimestamp } from "../db/timestamps.ts";
import { AppError, ConflictError, ValidationError } from "../errors.ts";
import { compileConditions, Condition, describeConditions, STATE_SQL } from "./conditions.ts";
import { recordPlanEvents } from "./lifecycle.ts";
import {
  DEFAULT_DECISION_SETTINGS,
  DEFAULT_PROTECTION_SETTINGS,
  requiredApprovals,
  resolvePlanOptions,
  type DecisionSettings,
  type PlanOptions,
  type PlanOptionsInput,
  type ProtectionSettings,
} from "./options.ts";
import { actionScope, compileProtection, holdKeys, isDestructive, type ActionSpecs } from "./protection.ts";
import { TagSpec, tagKeys, VersionSpec } from "./action-specs.ts";

export interface ProposeDeps {
  db: Db;
  now: () => Date;
  settings?: DecisionSettings;
  /** The deployment's hold key, recent-upload window and halting limits (from the environment); a plan may only tighten them. */
  protection?: ProtectionSettings;
  /** How many distinct approvers plans need (four eyes), from the deployment's settings. */
  approvals?: ApprovalSettings;
}

export interface ProposeInput {
  /** Where the policy may be: the one project named, or all. */
  projectKeys: string[];
  /** Policy id, or name. */
  policy: string;
  options?: PlanOptionsInput | undefined;
  note?: string | undefined;
  actor: string;
}

export interface SampleItem {
  fileUuid: string;
  size: number;
  state: FileState;
  datetimeUploaded: string;
  mimeType: string;
  originalFilename: string;
  evidence: Record<string, unknown>;
  reason: string | null;
}

export interface PlanPreview {
  projectKey: string;
  policy: PolicyRecord;
  action: PolicyAction;
  options: PlanOptions;
  conditions: string[];
  /** Files the plan would act on, and their bytes. */
  files: number;
  bytes: number;
  excludedCount: number;
  excluded: { reason: string; files: number }[];
  requiredApprovals: number;
  expiresAt: string;
  /** The first files in execution order, and the first excluded ones. */
  sample: SampleItem[];
  excludedSample: SampleItem[];
}

/** Rows shown in a dry run. */
export const SAMPLE_ROWS = 10;

/** The conditions a stored policy holds, checked again: a stored row is not trusted blindly. */
export function policyConditions(policy: PolicyRecord): Condition[] {
  const parsed = z.array(Condition).safeParse(policy.conditions);
  if (!parsed.success) throw new AppError("INTERNAL_SERVER_ERROR", `policy ${policy.id} holds conditions this version cannot read`);
  return parsed.data;
}

/** A tag or version policy's own settings, checked again like its conditions. */
export function policySpecs(policy: Pick<PolicyRecord, "id" | "action" | "tag" | "versionSpec">): ActionSpecs {
  const tag = policy.action === "tag" ? TagSpec.safeParse(policy.tag) : null;
  const version = policy.action === "version" ? VersionSpec.safeParse(policy.versionSpec) : null;
  if (tag?.success === false || version?.success === false) throw new AppError("INTERNAL_SERVER_ERROR", `policy ${policy.id} holds ${policy.action} settings this version cannot read`);
  return { tag: tag?.data ?? null, versionSpec: version?.data ?? null };
}

/**
 * A tag plan may not touch a hold key: holds are the one thing plans never
 * change, so a plan cannot lift them in bulk (nor set them, which would
 * make its own files protected halfway).
 */
function checkTagKeys(specs: ActionSpecs, options: PlanOptions): void {
  if (!specs.tag) return;
  const holds = holdKeys(options);
  const touched = tagKeys(specs.tag).filter((k) => holds.includes(k));
  if (touched.length > 0) throw new ValidationError(`tag: ${touched.join(", ")} is a hold key; a tag plan cannot set or remove hold keys`);
}

/** Every file the policy matches in its project, with evidence and, when protected, why. */
function candidates(policy: PolicyRecord, options: PlanOptions, now: Date): SQL {
  const compiled = compileConditions(policyConditions(policy), { now });
  return sql`select f.uuid, f.size, ${STATE_SQL} as state, f.datetime_uploaded, f.mime_type, f.original_filename,
      ${compiled.evidence} as evidence, ${compileProtection(policy.action, options, now, policySpecs(policy))} as protection
    from files f
    where f.project_key = ${policy.projectKey} and ${actionScope(policy.action)} and ${compiled.where}`;
}

interface Totals {
  files: number;
  bytes: number;
  excluded: number;
  scope: number;
}

/**
 * Refuses a destructive plan that would touch every live file of the project
 * unless the policy says it may: a policy can narrow nothing in practice even
 * when its conditions look narrow (every file is old, every file has the key).
 */
function checkMatchAll(policy: PolicyRecord, totals: Totals): void {
  if (!isDestructive(policy.action, policySpecs(policy)) || policy.allowMatchAll) return;
  if (totals.scope > 0 && totals.files + totals.excluded >= totals.scope) {
    throw new ConflictError(
      `policy ${policy.name} matches every live file of project ${policy.projectKey} (${totals.scope}): set allowMatchAll on the policy if that is intended`,
    );
  }
}

async function scopeCount(db: Queryable, policy: PolicyRecord): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from files f where f.project_key = ${policy.projectKey} and ${actionScope(policy.action)}`);
  return row?.n ?? 0;
}

function expiresAt(now: Date, options: PlanOptions): string {
  return dateToTimestamp(new Date(now.getTime() + options.expiresInHours * 3_600_000));
}

interface CandidateRow {
  uuid: string;
  size: number | string;
  state: FileState;
  datetime_uploaded: string;
  mime_type: string;
  original_filename: string;
  evidence: Record<string, unknown>;
  protection: string | null;
}

function toSample(r: CandidateRow): SampleItem {
  return {
    fileUuid: r.uuid,
    size: Number(r.size),
    state: r.state,
    datetimeUploaded: canonicalTimestampOrNull(r.datetime_uploaded)!,
    mimeType: r.mime_type,
    originalFilename: r.original_filename,
    evidence: r.evidence,
    reason: r.protection,
  };
}

/** What proposing would freeze, computed without writing anything (the dry run). */
export async function previewPlan(deps: ProposeDeps, input: ProposeInput): Promise<PlanPreview> {
  const now = deps.now();
  // Options first: a loosening one is refused (400) whatever the policy.
  const options = resolvePlanOptions(input.options, deps.settings ?? DEFAULT_DECISION_SETTINGS, deps.protection ?? DEFAULT_PROTECTION_SETTINGS);
  const policy = await findPolicy(deps.db, { idOrName: input.policy, projectKeys: input.projectKeys });
  checkTagKeys(policySpecs(policy), options);
  const c = candidates(policy, options, now);
  const [totals] = await queryRows<{ files: number; bytes: number | string; excluded: number }>(
    deps.db,
    sql`select count(*) filter (where c.protection is null)::int as files,
               coalesce(sum(c.size) filter (where c.protection is null), 0)::bigint as bytes,
               count(*) filter (where c.protection is not null)::int as excluded
        from (${c}) c`,
  );
  const files = totals?.files ?? 0;
  const bytes = Number(totals?.bytes ?? 0);
  const excludedCount = totals?.excluded ?? 0;
  checkMatchAll(policy, { files, bytes, excluded: excludedCount, scope: await scopeCount(deps.db, policy) });
  const excluded = await queryRows<{ reason: string; files: number }>(
    deps.db,
    sql`select c.protection as reason, count(*)::int as files from (${c}) c where c.protection is not null group by c.protection order by count(*) desc, c.protection`,
  );
  const sample = await queryRows<CandidateRow>(
    deps.db,
    sql`select c.uuid::text as uuid, c.size, c.state, c.datetime_uploaded::text as datetime_uploaded, c.mime_type, c.original_filename, c.evidence, c.protection
        from (${c}) c where c.protection is null order by c.datetime_uploaded, c.uuid limit ${SAMPLE_ROWS}`,
  );
  const excludedSample = await queryRows<CandidateRow>(
    deps.db,
    sql`select c.uuid::text as uuid, c.size, c.state, c.datetime_uploaded::text as datetime_uploaded, c.mime_type, c.original_filename, c.evidence, c.protection
        from (${c}) c where c.protection is not null order by c.datetime_uploaded, c.uuid limit ${SAMPLE_ROWS}`,
  );
  return {
    projectKey: policy.projectKey,
    policy,
    action: policy.action,
    options,
    conditions: describeConditions(policyConditions(policy)),
    files,
    bytes,
    excludedCount,
    excluded,
    requiredApprovals: requiredApprovals(options, files, bytes, deps.approvals),
    expiresAt: canonicalTimestampOrNull(expiresAt(now, options))!,
    sample: sample.map(toSample),
    excludedSample: excludedSample.map(toSample),
  };
}

/**
 * Freezes a plan: the policy as it is now, every matching file with the
 * evidence that matched, and the protected ones as excluded items with their
 * reason, in one transaction. The items are read by one statement, so they
 * are one consistent snapshot of the ledger.
 */
export async function proposePlan(deps: ProposeDeps, input: ProposeInput): Promise<PlanRecord> {
  const now = deps.now();
  const at = dateToTimestamp(now);
  const options = resolvePlanOptions(input.options, deps.settings ?? DEFAULT_DECISION_SETTINGS, deps.protection ?? DEFAULT_PROTECTION_SETTINGS);
  const policy = await findPolicy(deps.db, { idOrName: input.policy, projectKeys: input.projectKeys });
  checkTagKeys(policySpecs(policy), options);
  const planId = randomUUID();
  const snapshot = {
    id: policy.id,
    name: policy.name,
    version: policy.version,
    action: policy.action,
    description: policy.description,
    conditions: policy.conditions,
    allowMatchAll: policy.allowMatchAll,
    archive: policy.archive,
    // Tag and version plans freeze what they do to each file with the files.
    ...(policy.action === "tag" ? { tag: policySpecs(policy).tag } : {}),
    ...(policy.action === "version" ? { versionSpec: policySpecs(policy).versionSpec } : {}),
    describe: describeConditions(policyConditions(policy)),
  };

  await deps.db.transaction(async (tx) => {
    await tx.execute(sql`
      insert into plans (project_key, id, policy_id, policy_version, policy, action, options, status, note, file_count, total_bytes,
                         excluded_count, required_approvals, proposed_by, proposed_at, expires_at, updated_at)
      values (${policy.projectKey}, ${planId}::uuid, ${policy.id}::uuid, ${policy.version}, ${JSON.stringify(snapshot)}::jsonb, ${policy.action},
              ${JSON.stringify(options)}::jsonb, 'proposed', ${input.note ?? null}, 0, 0, 0, 1, ${input.actor}, ${at}::timestamptz,
              ${expiresAt(now, options)}::timestamptz, ${at}::timestamptz)`);
    await tx.execute(sql`
      insert into plan_items (project_key, plan_id, seq, file_uuid, status, reason, size, state, datetime_uploaded, mime_type,
                              original_filename, evidence, updated_at)
      select ${policy.projectKey}, ${planId}::uuid, row_number() over (order by c.datetime_uploaded, c.uuid), c.uuid,
             case when c.protection is null then 'pending' else 'excluded' end, c.protection, c.size, c.state, c.datetime_uploaded,
             c.mime_type, c.original_filename, c.evidence, ${at}::timestamptz
      from (${candidates(policy, options, now)}) c`);
    const [totals] = await queryRows<{ files: number; bytes: number | string; excluded: number }>(
      tx,
      sql`select count(*) filter (where status = 'pending')::int as files,
                 coalesce(sum(size) filter (where status = 'pending'), 0)::bigint as bytes,
                 count(*) filter (where status = 'excluded')::int as excluded
          from plan_items where project_key = ${policy.projectKey} and plan_id = ${planId}::uuid`,
    );
    const files = totals?.files ?? 0;
    const bytes = Number(totals?.bytes ?? 0);
    const excluded = totals?.excluded ?? 0;
    checkMatchAll(policy, { files, bytes, excluded, scope: await scopeCount(tx, policy) });
    if (files === 0) {
      throw new ConflictError(`policy ${policy.name} matches no file it could ${policy.action} (${excluded} matched but are protected): nothing to plan`);
    }
    const approvals = requiredApprovals(options, files, bytes, deps.approvals);
    await tx.execute(sql`
      update plans set file_count = ${files}, total_bytes = ${bytes}, excluded_count = ${excluded}, required_approvals = ${approvals}
      where project_key = ${policy.projectKey} and id = ${planId}::uuid`);
    await recordPlanEvents(tx, policy.projectKey, [
      {
        planId,
        actor: input.actor,
        now,
        from: null,
        to: "proposed",
        event: "proposed",
        details: { policy: policy.name, policyId: policy.id, policyVersion: policy.version, action: policy.action, files, bytes, excluded, requiredApprovals: approvals, note: input.note ?? null },
      },
    ]);
  });
  return findPlan(deps.db, planId, [policy.projectKey]);
}
