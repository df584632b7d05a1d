import type { Db, Queryable } from "../db/client.ts";
import { assertFence, renewLease, type Claim } from "../db/queries/job-claims.ts";
import type { Logger } from "../logger.ts";

/** The reason a run's signal fires: its claim is no longer its own. Runs record it as their error. */
export class LeaseLostError extends Error {
  constructor(claim: Claim, why: string) {
    super(`lease lost: ${why} (${claim.job} for ${claim.projectKey}, slot ${claim.slot}, fencing token ${claim.fencingToken}); the run stopped`);
    this.name = "LeaseLostError";
  }
}

export interface HeldLease {
  claim: Claim;
  /** Call inside every transaction the run commits: refuses the write once the lease was taken over. */
  fence: (tx: Queryable) => Promise<void>;
  /** Fires when the lease is lost, with a LeaseLostError as its reason. */
  signal: AbortSignal;
  /** Stops renewing (the run ended); the claim itself is finished by the caller. */
  release(): void;
}

/**
 * Renews a claim's lease while its run works, three times per lease. The
 * signal fires when a renewal finds the claim taken over or ended, or when
 * renewals have failed for a whole lease (the database is unreachable, so
 * another instance may have taken it over by now); the run then stops before
 * its next page. A renewal still waiting (behind the run's own transaction,
 * which holds the claim row for share) is not a failure.
 */
export function holdLease(db: Db, claim: Claim, leaseMs: number, logger: Logger): HeldLease {
  const controller = new AbortController();
  let renewing = false;
  let failingSince: number | undefined;
  const lose = (why: string) => {
    if (controller.signal.aborted) return;
    logger.warn({ job: claim.job, project: claim.projectKey, slot: claim.slot, fencingToken: claim.fencingToken }, `lease lost: ${why}`);
    controller.abort(new LeaseLostError(claim, why));
  };
  const timer = setInterval(() => {
    if (renewing || controller.signal.aborted) return;
    renewing = true;
    const asked = Date.now();
    renewLease(db, claim, leaseMs)
      .then(
        (held) => {
          failingSince = undefined;
          if (!held) lose("the claim was taken over or ended by another run");
        },
        (err: unknown) => {
          failingSince ??= asked;
          if (Date.now() - failingSince >= leaseMs) lose(`renewals failed for ${Date.now() - failingSince} ms (${(err as Error).message})`);
        },
      )
      .finally(() => (renewing = false));
  }, Math.max(100, Math.floor(leaseMs / 3)));
  return {
    claim,
    fence: (tx) => assertFence(tx, claim),
    signal: controller.signal,
    release: () => clearInterval(timer),
  };
}
