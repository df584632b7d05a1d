import { appendEvents } from "../db/audit/chain.ts";
import type { Queryable } from "../db/client.ts";
import type { PlanStatus } from "../db/schema/index.ts";
import { dateToTimestamp } from "../db/timestamps.ts";

/** A change in a plan's life, as the audit trail records it. */
export interface PlanEvent {
  planId: string;
  actor: string;
  now: Date;
  /** Null when the plan is new. */
  from: PlanStatus | null;
  to: PlanStatus;
  /** `proposed`, `approval`, `approved`, `apply_started`, `applied`, `halted`, `expired`, `cancelled`. */
  event: string;
  details?: Record<string, unknown>;
}

/**
 * Appends plan lifecycle events to the project's audit chain: kind `action`,
 * no file, source `action`, the plan id and the actor. Must run in the
 * transaction that changes the plan, so the trail and the plan never disagree.
 */
export async function recordPlanEvents(tx: Queryable, projectKey: string, events: PlanEvent[]): Promise<void> {
  await appendEvents(
    tx,
    projectKey,
    events.map((e) => {
      const at = dateToTimestamp(e.now);
      return {
        fileUuid: null,
        kind: "action" as const,
        before: e.from === null ? null : { status: e.from },
        after: { event: e.event, status: e.to, ...e.details },
        occurredAt: at,
        observedAt: at,
        source: "action" as const,
        runId: null,
        planId: e.planId,
        actor: e.actor,
      };
    }),
  );
}
