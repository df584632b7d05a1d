import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { findPlan, type PlanRecord } from "../db/queries/plans.ts";
import { queryRows } from "../db/query.ts";
import type { PlanStatus } from "../db/schema/index.ts";
import { dateToTimestamp } from "../db/timestamps.ts";
import { ConflictError, ValidationError } from "../errors.ts";
import { recordPlanEvents, type PlanEvent } from "./lifecycle.ts";

export interface ReviewDeps {
  db: Db;
  now: () => Date;
}

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
 * Records one approval. A plan needs as many different approvers as it says
 * (two for large ones); the same approver twice is refused, by the primary key
 * as much as by this check. The plan row is locked, so two approvals at once
 * are counted one after the other.
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
      sql`select count(*)::int as n from plan_approvals where project_key = ${plan.projectKey} and plan_id = ${plan.id}::uuid`,
    );
    const approvals = count?.n ?? 0;
    const complete = approvals >= plan.requiredApprovals;
    const to: PlanStatus = complete ? "approved" : "proposed";
    const events: PlanEvent[] = [
      { planId: plan.id, actor: input.approver, now, from: "proposed", to, event: "approval", details: { reason, approvals, requiredApprovals: plan.requiredApprovals } },
    ];
    if (complete) {
      await tx.execute(sql`update plans set status = 'approved', approved_at = ${at}::timestamptz, updated_at = ${at}::timestamptz
                           where project_key = ${plan.projectKey} and id = ${plan.id}::uuid`);
      events.push({ planId: plan.id, actor: input.approver, now, from: "proposed", to, event: "approved", details: { approvals, requiredApprovals: plan.requiredApprovals } });
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
