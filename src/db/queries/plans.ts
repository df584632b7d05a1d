import { sql, type SQL } from "drizzle-orm";
import { ConflictError, NotFoundError } from "../../errors.ts";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { PLAN_ITEM_STATUSES, type FileState, type PlanItemStatus, type PlanStatus, type PolicyAction } from "../schema/index.ts";
import { canonicalTimestampOrNull } from "../timestamps.ts";
import { countRows, pageAcrossProjects, type CountMode, type KeysetOrder, type KeysetPosition, type Total } from "./keyset.ts";

export interface PlanRecord {
  projectKey: string;
  id: string;
  policyId: string;
  policyVersion: number;
  policy: Record<string, unknown>;
  action: PolicyAction;
  options: Record<string, unknown>;
  status: PlanStatus;
  note: string | null;
  fileCount: number;
  totalBytes: number;
  excludedCount: number;
  requiredApprovals: number;
  proposedBy: string;
  proposedAt: string;
  expiresAt: string;
  approvedAt: string | null;
  appliedBy: string | null;
  applyStartedAt: string | null;
  finishedAt: string | null;
  haltReason: string | null;
  lastError: string | null;
  cancelledBy: string | null;
  updatedAt: string;
}

interface PlanRow {
  project_key: string;
  id: string;
  policy_id: string;
  policy_version: number;
  policy: Record<string, unknown>;
  action: PolicyAction;
  options: Record<string, unknown>;
  status: PlanStatus;
  note: string | null;
  file_count: number;
  total_bytes: number | string;
  excluded_count: number;
  required_approvals: number;
  proposed_by: string;
  proposed_at: string;
  expires_at: string;
  approved_at: string | null;
  applied_by: string | null;
  apply_started_at: string | null;
  finished_at: string | null;
  halt_reason: string | null;
  last_error: string | null;
  cancelled_by: string | null;
  updated_at: string;
}

export const PLAN_COLUMNS = sql.raw(`project_key, id::text as id, policy_id::text as policy_id, policy_version, policy, action, options,
  status, note, file_count, total_bytes, excluded_count, required_approvals, proposed_by, proposed_at::text as proposed_at,
  expires_at::text as expires_at, approved_at::text as approved_at, applied_by, apply_started_at::text as apply_started_at,
  finished_at::text as finished_at, halt_reason, last_error, cancelled_by, updated_at::text as updated_at`);

export function toPlanRecord(r: PlanRow): PlanRecord {
  return {
    projectKey: r.project_key,
    id: r.id,
    policyId: r.policy_id,
    policyVersion: r.policy_version,
    policy: r.policy,
    action: r.action,
    options: r.options,
    status: r.status,
    note: r.note,
    fileCount: r.file_count,
    totalBytes: Number(r.total_bytes),
    excludedCount: r.excluded_count,
    requiredApprovals: r.required_approvals,
    proposedBy: r.proposed_by,
    proposedAt: canonicalTimestampOrNull(r.proposed_at)!,
    expiresAt: canonicalTimestampOrNull(r.expires_at)!,
    approvedAt: canonicalTimestampOrNull(r.approved_at),
    appliedBy: r.applied_by,
    applyStartedAt: canonicalTimestampOrNull(r.apply_started_at),
    finishedAt: canonicalTimestampOrNull(r.finished_at),
    haltReason: r.halt_reason,
    lastError: r.last_error,
    cancelledBy: r.cancelled_by,
    updatedAt: canonicalTimestampOrNull(r.updated_at)!,
  };
}

/**
 * A plan by id. Ids are random uuids, so one names one plan; `projectKeys`
 * limits where to look. `forUpdate` locks the row until the transaction ends.
 */
export async function findPlan(db: Queryable, id: string, projectKeys: string[], options: { forUpdate?: boolean } = {}): Promise<PlanRecord> {
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
  if (!isUuid || projectKeys.length === 0) throw new NotFoundError("plan", id);
  const rows = await queryRows<PlanRow>(
    db,
    sql`select ${PLAN_COLUMNS} from plans where id = ${id.toLowerCase()}::uuid and project_key = any(${sql.param(projectKeys)}::text[])
        ${options.forUpdate ? sql`for update` : sql``}`,
  );
  if (rows.length === 0) throw new NotFoundError("plan", id);
  if (rows.length > 1) throw new ConflictError(`plan ${id} is in several projects: name the project`);
  return toPlanRecord(rows[0]!);
}

export interface PlanFilter {
  projects: string[];
  statuses?: PlanStatus[] | undefined;
  policyId?: string | undefined;
}

/** Newest first. */
export const PLAN_ORDER: KeysetOrder = {
  lead: [{ expr: sql`proposed_at`, cast: "timestamptz", field: "proposed_at" }],
  tie: { expr: sql`id`, cast: "uuid", field: "id" },
  direction: "desc",
};

function planConditions(filter: PlanFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.statuses?.length) where.push(sql`status = any(${sql.param(filter.statuses)}::text[])`);
  if (filter.policyId) where.push(sql`policy_id = ${filter.policyId}::uuid`);
  return where;
}

export async function listPlans(
  db: Queryable,
  query: { filter: PlanFilter; after: KeysetPosition | null; limit: number },
): Promise<{ items: PlanRecord[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<PlanRow & Record<string, unknown>>(db, {
    columns: PLAN_COLUMNS,
    from: sql`plans`,
    where: planConditions(query.filter),
    order: PLAN_ORDER,
    projects: query.filter.projects,
    after: query.after,
    limit: query.limit,
  });
  return { items: page.rows.map(toPlanRecord), next: page.next };
}

export async function countPlans(db: Queryable, filter: PlanFilter, mode: CountMode): Promise<Total> {
  return countRows(db, { from: sql`plans`, where: [sql`project_key = any(${sql.param(filter.projects)}::text[])`, ...planConditions(filter)], mode });
}

export interface PlanApproval {
  approver: string;
  reason: string;
  approvedAt: string;
}

export async function listApprovals(db: Queryable, projectKey: string, planId: string): Promise<PlanApproval[]> {
  const rows = await queryRows<{ approver: string; reason: string; approved_at: string }>(
    db,
    sql`select approver, reason, approved_at::text as approved_at from plan_approvals
        where project_key = ${projectKey} and plan_id = ${planId}::uuid order by approved_at, approver`,
  );
  return rows.map((r) => ({ approver: r.approver, reason: r.reason, approvedAt: canonicalTimestampOrNull(r.approved_at)! }));
}

export type PlanProgress = Record<PlanItemStatus, { files: number; bytes: number }>;

/** Items and their bytes per status. */
export async function planProgress(db: Queryable, projectKey: string, planId: string): Promise<PlanProgress> {
  const rows = await queryRows<{ status: PlanItemStatus; n: number; bytes: number | string }>(
    db,
    sql`select status, count(*)::int as n, coalesce(sum(size), 0)::bigint as bytes from plan_items
        where project_key = ${projectKey} and plan_id = ${planId}::uuid group by status`,
  );
  const progress = Object.fromEntries(PLAN_ITEM_STATUSES.map((s) => [s, { files: 0, bytes: 0 }])) as PlanProgress;
  for (const r of rows) progress[r.status] = { files: r.n, bytes: Number(r.bytes) };
  return progress;
}

/** How many items carry each reason, for one status (excluded, skipped, failed). */
export async function reasonCounts(db: Queryable, projectKey: string, planId: string, status: PlanItemStatus): Promise<{ reason: string; files: number }[]> {
  const rows = await queryRows<{ reason: string | null; n: number }>(
    db,
    sql`select reason, count(*)::int as n from plan_items
        where project_key = ${projectKey} and plan_id = ${planId}::uuid and status = ${status}
        group by reason order by count(*) desc, reason limit 50`,
  );
  return rows.map((r) => ({ reason: r.reason ?? "", files: r.n }));
}

export interface PlanItem {
  seq: number;
  fileUuid: string;
  status: PlanItemStatus;
  reason: string | null;
  size: number;
  state: FileState;
  datetimeUploaded: string;
  mimeType: string;
  originalFilename: string;
  evidence: Record<string, unknown>;
  copyUrl: string | null;
  /** Version plans: the copy made of the file and its bytes. */
  copyUuid: string | null;
  copySize: number | null;
  batch: number | null;
  sentAt: string | null;
  finishedAt: string | null;
}

interface ItemRow {
  seq: number;
  file_uuid: string;
  status: PlanItemStatus;
  reason: string | null;
  size: number | string;
  state: FileState;
  datetime_uploaded: string;
  mime_type: string;
  original_filename: string;
  evidence: Record<string, unknown>;
  copy_url: string | null;
  copy_uuid: string | null;
  copy_size: number | string | null;
  batch: number | null;
  sent_at: string | null;
  finished_at: string | null;
}

const ITEM_COLUMNS = sql.raw(`project_key, seq, file_uuid::text as file_uuid, status, reason, size, state,
  datetime_uploaded::text as datetime_uploaded, mime_type, original_filename, evidence, copy_url, copy_uuid::text as copy_uuid, copy_size, batch,
  sent_at::text as sent_at, finished_at::text as finished_at`);

export function toPlanItem(r: ItemRow): PlanItem {
  return {
    seq: r.seq,
    fileUuid: r.file_uuid,
    status: r.status,
    reason: r.reason,
    size: Number(r.size),
    state: r.state,
    datetimeUploaded: canonicalTimestampOrNull(r.datetime_uploaded)!,
    mimeType: r.mime_type,
    originalFilename: r.original_filename,
    evidence: r.evidence,
    copyUrl: r.copy_url,
    copyUuid: r.copy_uuid,
    copySize: r.copy_size === null ? null : Number(r.copy_size),
    batch: r.batch,
    sentAt: canonicalTimestampOrNull(r.sent_at),
    finishedAt: canonicalTimestampOrNull(r.finished_at),
  };
}

/** Execution order. */
export const PLAN_ITEM_ORDER: KeysetOrder = { lead: [], tie: { expr: sql`seq`, cast: "integer", field: "seq" }, direction: "asc" };

export interface PlanItemFilter {
  projectKey: string;
  planId: string;
  statuses?: PlanItemStatus[] | undefined;
}

function itemConditions(filter: PlanItemFilter): SQL[] {
  const where = [sql`plan_id = ${filter.planId}::uuid`];
  if (filter.statuses?.length) where.push(sql`status = any(${sql.param(filter.statuses)}::text[])`);
  return where;
}

export async function listPlanItems(
  db: Queryable,
  query: { filter: PlanItemFilter; after: KeysetPosition | null; limit: number },
): Promise<{ items: PlanItem[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<ItemRow & Record<string, unknown>>(db, {
    columns: ITEM_COLUMNS,
    from: sql`plan_items`,
    where: itemConditions(query.filter),
    order: PLAN_ITEM_ORDER,
    projects: [query.filter.projectKey],
    after: query.after,
    limit: query.limit,
  });
  return { items: page.rows.map(toPlanItem), next: page.next };
}

export async function countPlanItems(db: Queryable, filter: PlanItemFilter, mode: CountMode): Promise<Total> {
  return countRows(db, { from: sql`plan_items`, where: [sql`project_key = ${filter.projectKey}`, ...itemConditions(filter)], mode });
}

/** The first `limit` items with one of the statuses, in execution order. */
export async function planItemsWithStatus(db: Queryable, projectKey: string, planId: string, statuses: PlanItemStatus[], limit: number): Promise<PlanItem[]> {
  if (statuses.length === 0 || !statuses.every((s) => PLAN_ITEM_STATUSES.includes(s))) throw new RangeError(`unknown item status in ${statuses.join(", ")}`);
  // Literal statuses, so the planner sees that the open-items partial index covers the open ones.
  const list = sql.raw(statuses.map((s) => `'${s}'`).join(", "));
  const rows = await queryRows<ItemRow>(
    db,
    sql`select ${ITEM_COLUMNS} from plan_items
        where project_key = ${projectKey} and plan_id = ${planId}::uuid and status in (${list})
        order by seq limit ${limit}`,
  );
  return rows.map(toPlanItem);
}

/** A plan's status as stored now (another instance or a cancel may have moved it). */
export async function currentPlanStatus(db: Queryable, plan: { projectKey: string; planId: string }): Promise<PlanStatus> {
  const [row] = await queryRows<{ status: PlanStatus }>(db, sql`select status from plans where project_key = ${plan.projectKey} and id = ${plan.planId}::uuid`);
  return row!.status;
}

/** The highest batch number a plan's items were sent in; 0 before the first. */
export async function lastPlanBatch(db: Queryable, plan: { projectKey: string; planId: string }): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select coalesce(max(batch), 0)::int as n from plan_items where project_key = ${plan.projectKey} and plan_id = ${plan.planId}::uuid`,
  );
  return row?.n ?? 0;
}

/** How many of a plan's items are done, failed, skipped and excluded. */
export async function planItemCounts(db: Queryable, plan: { projectKey: string; planId: string }): Promise<{ done: number; failed: number; skipped: number; excluded: number }> {
  const [row] = await queryRows<{ done: number; failed: number; skipped: number; excluded: number }>(
    db,
    sql`select count(*) filter (where status = 'done')::int as done, count(*) filter (where status = 'failed')::int as failed,
               count(*) filter (where status = 'skipped')::int as skipped, count(*) filter (where status = 'excluded')::int as excluded
        from plan_items where project_key = ${plan.projectKey} and plan_id = ${plan.planId}::uuid`,
  );
  return row ?? { done: 0, failed: 0, skipped: 0, excluded: 0 };
}

export interface PlanSavings {
  /** Originals deleted after their copy was confirmed. */
  files: number;
  bytesBefore: number;
  bytesAfter: number;
  /** bytesBefore − bytesAfter: what the deleted originals took beyond their copies. */
  bytesSaved: number;
}

/**
 * What a version plan that deletes originals saved: for each done item, the
 * original's bytes at proposal against its copy's. Null for other plans.
 */
export async function planSavings(db: Queryable, plan: Pick<PlanRecord, "projectKey" | "id" | "action" | "policy">): Promise<PlanSavings | null> {
  const spec = plan.policy["versionSpec"] as { deleteOriginal?: unknown } | undefined;
  if (plan.action !== "version" || spec?.deleteOriginal !== true) return null;
  const [row] = await queryRows<{ files: number; before: number | string; after: number | string }>(
    db,
    sql`select count(*)::int as files, coalesce(sum(size), 0)::bigint as before, coalesce(sum(copy_size), 0)::bigint as after from plan_items
        where project_key = ${plan.projectKey} and plan_id = ${plan.id}::uuid and status = 'done' and copy_size is not null`,
  );
  const before = Number(row?.before ?? 0);
  const after = Number(row?.after ?? 0);
  return { files: row?.files ?? 0, bytesBefore: before, bytesAfter: after, bytesSaved: before - after };
}
