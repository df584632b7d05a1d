import { sql } from "drizzle-orm";
import type { Db, Queryable } from "../db/client.ts";
import { findPlan, listApprovals, type PlanRecord } from "../db/queries/plans.ts";
import { queryRows } from "../db/query.ts";
import type { PlanStatus } from "../db/schema/index.ts";
import { dateToTimestamp } from "../db/timestamps.ts";
import { AppError, ConflictError, ValidationError } from "../errors.ts";
import { recordPlanEvents, type PlanEvent } from "./lifecycle.ts";

/**
 * Four eyes: how many distinct approvers, none of them the proposer, a plan
 * needs. A deployment setting (`UCLEDGER_APPROVALS_REQUIRED`,
 * `UCLEDGER_APPROVALS_REQUIRED_LARGE`); nobody can lower it for one plan.
 */
export interface ApprovalSettings {
  /** Plans within the size limits. */
  required: number;
  /** Plans above them: more files or bytes than the plan's frozen `twoApproversAbove*` limits. */
  requiredLarge: number;
}

export const DEFAULT_APPROVAL_SETTINGS: ApprovalSettings = { required: 1, requiredLarge: 2 };

export interface ReviewDeps {
  db: Db;
  now: () => Date;
  /** Default: DEFAULT_APPROVAL_SETTINGS. */
  approvals?: ApprovalSettings | undefined;
}

/**
 * Above the size limits the plan froze at proposal. Read from its options, so
 * it does not depend on how `required_approvals` was filled in; a plan whose
 * options lack the limits falls back to what the proposal recorded (2 = large).
 */
export function isAboveSizeLimits(plan: Pick<PlanRecord, "options" | "fileCount" | "totalBytes" | "requiredApprovals">): boolean {
  const files = plan.options["twoApproversAboveFiles"];
  const bytes = plan.options["twoApproversAboveBytes"];
  if (typeof files !== "number" || typeof bytes !== "number") return plan.requiredApprovals > 1;
  return plan.fileCount > files || plan.totalBytes > bytes;
}

/**
 * How many approvals the plan needs. While it is proposed, the deployment's
 * setting now (a stricter setting applies to plans not yet approved); once it
 * is approved, the number it took, recorded on the plan at that moment.
 */
export function approvalsRequired(plan: PlanRecord, settings: ApprovalSettings = DEFAULT_APPROVAL_SETTINGS): number {
  if (plan.status !== "proposed") return plan.requiredApprovals;
  return isAboveSizeLimits(plan) ? settings.requiredLarge : settings.required;
}

/** Who approved a plan and who still has to, as the API, the CLI and the dashboard show it. */
export interface ApprovalState {
  required: number;
  /** Approvals that count: one per approver, never the proposer's. */
  received: { actor: string; at: string; reason: string }[];
  /** More distinct approvers needed; 0 once approved, or when the plan takes no more approvals (expired, cancelled). */
  stillNeeded: number;
  /** Who cannot give one of the approvals still needed: the proposer, then everyone who already approved. */
  cannotApprove: string[];
}

export async function approvalState(db: Queryable, plan: PlanRecord, settings: ApprovalSettings = DEFAULT_APPROVAL_SETTINGS): Promise<ApprovalState> {
  // A proposer's own approval recorded before four eyes was enforced is kept in the table and the trail, but never counts.
  const received = (await listApprovals(db, plan.projectKey, plan.id))
    .filter((a) => a.approver !== plan.proposedBy)
    .map((a) => ({ actor: a.approver, at: a.approvedAt, reason: a.reason }));
  const required = approvalsRequired(plan, settings);
  return {
    required,
    received,
    stillNeeded: plan.status === "proposed" ? Math.max(0, required - received.length) : 0,
    cannotApprove: [plan.proposedBy, ...received.map((a) => a.actor)],
  };
}

/** `2 approvals` / `1 approval`. */
export const approvalsText = (n: number) => `${n} approval${n === 1 ? "" : "s"}`;

/**
 * Marks every proposed plan past its deadline `expired`, with its audit
 * event. Plans expire lazily: every read and every action on plans calls this
 * first, so an expired plan is never shown as open or approved late.
 */
export async function expirePlans(deps: ReviewDeps, projectKeys: string[]): Promise<number> {
  if (projectKeys.length === 0) return 0;
  const now = deps.now();
  const at = dateToTimestamp(now);
  const due = await queryRows<{ project_key: string }>(
    deps.db,
    sql`select distinct project_key from plans
        where project_key = any(${sql.param(projectKeys)}::text[]) and status = 'proposed' and expires_at <= ${at}::timestamptz`,
  );
  let expired = 0;
  for (const { project_key: projectKey } of due) {
    expired += await deps.db.transaction(async (tx) => {
      const rows = await queryRows<{ id: string; expires_at: string }>(
        tx,
        sql`update plans set status = 'expired', updated_at = ${at}::timestamptz
            where project_key = ${projectKey} and status = 'proposed' and expires_at <= ${at}::timestamptz
            returning id::text as id, expires_at::text as expires_at`,
      );
      await recordPlanEvents(
        tx,
        projectKey,
        rows.map((r) => ({ planId: r.id, actor: "ucledger:expiry", now, from: "proposed" as const, to: "expired" as const, event: "expired", details: { expiresAt: r.expires_at } })),
      );
      return rows.length;
    });
  }
  return expired;
}

/**
 * Records one approval. Four eyes: the proposer's own approval is refused
 * (403), and the plan is `approved` only once enough distinct other people
 * approved it. The same approver twice is refused (409), by the primary key as
 * much as by this check, so it never counts twice. The plan row is locked, so
 * two approvals at once are counted one after the other.
 */
export async function approvePlan(deps: ReviewDeps, input: { planId: string; projectKeys: string[]; approver: string; reason: string }): Promise<PlanRecord> {
  const reason = input.reason.trim();
  if (!reason) throw new ValidationError("reason: an approval needs a reason");
  const first = await findPlan(deps.db, input.planId, input.projectKeys);
  await expirePlans(deps, [first.projectKey]);
  const now = deps.now();
  const at = dateToTimestamp(now);
  await deps.db.transaction(async (tx) => {
    const plan = await findPlan(tx, input.planId, [first.projectKey], { forUpdate: true });
    if (plan.status !== "proposed") {
      throw new ConflictError(`plan ${plan.id} is ${plan.status}: only a proposed plan takes approvals`);
    }
    const required = approvalsRequired(plan, deps.approvals);
    if (input.approver === plan.proposedBy) {
      throw new AppError(
        "FORBIDDEN",
        `${input.approver} proposed plan ${plan.id} and cannot approve it: it needs ${approvalsText(required)} from someone other than the proposer`,
      );
    }
    const inserted = await queryRows<{ approver: string }>(
      tx,
      sql`insert into plan_approvals (project_key, plan_id, approver, reason, approved_at)
          values (${plan.projectKey}, ${plan.id}::uuid, ${input.approver}, ${reason}, ${at}::timestamptz)
          on conflict do nothing returning approver`,
    );
    if (inserted.length === 0) {
      throw new ConflictError(`${input.approver} has already approved plan ${plan.id}: another approval must come from someone else`);
    }
    const [count] = await queryRows<{ n: number }>(
      tx,
      sql`select count(*)::int as n from plan_approvals
          where project_key = ${plan.projectKey} and plan_id = ${plan.id}::uuid and approver <> ${plan.proposedBy}`,
    );
    const approvals = count?.n ?? 0;
    const complete = approvals >= required;
    const to: PlanStatus = complete ? "approved" : "proposed";
    const stillNeeded = Math.max(0, required - approvals);
    const events: PlanEvent[] = [
      { planId: plan.id, actor: input.approver, now, from: "proposed", to, event: "approval", details: { reason, approvals, requiredApprovals: required, stillNeeded } },
    ];
    if (complete) {
      // The number it took is kept on the plan: a later change of the setting does not rewrite history.
      await tx.execute(sql`update plans set status = 'approved', approved_at = ${at}::timestamptz, required_approvals = ${required},
                           updated_at = ${at}::timestamptz where project_key = ${plan.projectKey} and id = ${plan.id}::uuid`);
      events.push({ planId: plan.id, actor: input.approver, now, from: "proposed", to, event: "approved", details: { approvals, requiredApprovals: required } });
    }
    await recordPlanEvents(tx, plan.projectKey, events);
  });
  return findPlan(deps.db, input.planId, [first.projectKey]);
}

const CANCELLABLE: PlanStatus[] = ["proposed", "approved", "applying", "halted"];

/** Stops a plan for good. An apply under way stops before its next batch; what it already did stays done. */
export async function cancelPlan(deps: ReviewDeps, input: { planId: string; projectKeys: string[]; actor: string; reason: string }): Promise<PlanRecord> {
  const reason = input.reason.trim();
  if (!reason) throw new ValidationError("reason: cancelling needs a reason");
  const first = await findPlan(deps.db, input.planId, input.projectKeys);
  await expirePlans(deps, [first.projectKey]);
  const now = deps.now();
  const at = dateToTimestamp(now);
  await deps.db.transaction(async (tx) => {
    const plan = await findPlan(tx, input.planId, [first.projectKey], { forUpdate: true });
    if (!CANCELLABLE.includes(plan.status)) throw new ConflictError(`plan ${plan.id} is ${plan.status}: it cannot be cancelled`);
    await tx.execute(sql`update plans set status = 'cancelled', cancelled_by = ${input.actor}, finished_at = coalesce(finished_at, ${at}::timestamptz),
                         updated_at = ${at}::timestamptz where project_key = ${plan.projectKey} and id = ${plan.id}::uuid`);
    await recordPlanEvents(tx, plan.projectKey, [{ planId: plan.id, actor: input.actor, now, from: plan.status, to: "cancelled", event: "cancelled", details: { reason } }]);
  });
  return findPlan(deps.db, input.planId, [first.projectKey]);
}
