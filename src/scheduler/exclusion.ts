import { hostname } from "node:os";
import type { Db, Queryable } from "../db/client.ts";
import { claimRun, describeHolder, finishClaim, recordSkip, type Claim, type RunHolder } from "../db/queries/job-claims.ts";
import type { Logger } from "../logger.ts";
import { holdLease } from "./lease.ts";

/**
 * Runs started by hand (the API, the CLI) take the same claims as scheduled
 * ones, so the database lets one run of a group go at a time whoever started
 * it. Their job is `<stream>.manual`, in the group of the stream's scheduled
 * jobs (see migration 0017), slotted at the time they start.
 */
export const manualJob = (stream: string): string => `${stream}.manual`;

/** True for the claim of a run started by hand. */
export const isManualJob = (job: string): boolean => job.endsWith(".manual");

/**
 * A manual run's lease, as long as the scheduler's default: renewed three times
 * per lease. A run killed on another host holds its stream for at most this
 * long; one killed on this host is taken over at once (see supersedeReason).
 */
export const MANUAL_LEASE_MS = 60_000;

/** How a run started by hand names itself as a holder: `api:<host>:<pid>`, `cli:<host>:<pid>`. */
export function manualHolder(kind: "api" | "cli"): string {
  return `${kind}:${hostname()}:${process.pid}`;
}

/**
 * Why a running claim may be ended so that `by` can start, or null to leave it
 * be. A lease that expired is taken over (its holder stopped renewing it, and
 * ending it fences out any late write). So is the claim of a manual run whose
 * process is gone from this host (a killed CLI), which would otherwise hold its
 * stream for a whole lease. A live holder is never superseded.
 */
export function supersedeReason(current: RunHolder, by: string): string | null {
  if (current.expired) return `lease expired at ${current.leaseUntil}: its holder ${current.holder} stopped renewing it; taken over by ${by}`;
  if (processGone(current.holder)) return `the process holding it (${current.holder}) stopped before finishing; taken over by ${by}`;
  return null;
}

/**
 * True only for a manual holder of this host whose pid no longer exists. Two
 * containers with one host name but separate pid namespaces could take a live
 * holder for gone: the worst that does is fence that run out (its writes are
 * refused and its signal fires), never two runs writing at once.
 */
function processGone(holder: string): boolean {
  const match = /^(?:api|cli):(.+):(\d+)$/.exec(holder);
  if (!match || match[1] !== hostname()) return false;
  const pid = Number(match[2]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

export interface ManualRun {
  claim: Claim;
  /**
   * Runs the body with the claim's fence and abort signal, renewing the lease
   * meanwhile, then ends the claim: `failed` when the body throws or
   * `failureOf` names a failure, else `done`.
   */
  run<T>(body: (held: { fence: (tx: Queryable) => Promise<void>; signal: AbortSignal }) => Promise<T>, failureOf?: (value: T) => string | null): Promise<T>;
  /** Ends the claim of a run that will not start after all. */
  drop(reason: string): Promise<void>;
}

export type ManualClaim = ({ kind: "claimed" } & ManualRun) | { kind: "refused"; holder: RunHolder; message: string };

/**
 * Claims a run of `stream` for a project, or says who holds it. A refusal is
 * recorded as a skipped claim, so the claims show it next to the run it yielded to.
 */
export async function claimManualRun(
  db: Db,
  logger: Logger,
  what: { projectKey: string; stream: string; holder: string; leaseMs?: number },
): Promise<ManualClaim> {
  const leaseMs = what.leaseMs ?? MANUAL_LEASE_MS;
  const job = manualJob(what.stream);
  const outcome = await claimRun(db, { projectKey: what.projectKey, job, slot: null }, what.holder, leaseMs, (current) =>
    supersedeReason(current, what.holder),
  );
  if (outcome.kind !== "claimed") {
    // A null slot is never `taken`: only another run of the group can refuse it.
    if (outcome.kind === "taken") throw new Error(`claim of ${job} for ${what.projectKey} collided with its own slot`);
    const message = `a ${what.stream} sync is already running for ${what.projectKey} (${describeHolder(outcome.holder)})`;
    await recordSkip(db, { projectKey: what.projectKey, job, slot: null }, what.holder, `refused: ${message}`);
    return { kind: "refused", holder: outcome.holder, message };
  }
  const { claim } = outcome;
  const lease = holdLease(db, claim, leaseMs, logger);
  let ended = false;
  const end = async (status: "done" | "failed" | "skipped", error: string | null) => {
    if (ended) return;
    ended = true;
    lease.release();
    // False when the claim was taken over: its outcome is no longer this run's to record.
    await finishClaim(db, claim, status, error).catch((err: unknown) =>
      logger.warn({ job, project: what.projectKey, err: (err as Error).message }, "could not end a manual run's claim; its lease will expire"),
    );
  };
  return {
    kind: "claimed",
    claim,
    async run(body, failureOf) {
      let value;
      try {
        value = await body({ fence: lease.fence, signal: lease.signal });
      } catch (err) {
        await end("failed", lease.signal.aborted ? (lease.signal.reason as Error).message : (err as Error).message);
        throw err;
      }
      const failure = failureOf?.(value) ?? null;
      await end(failure === null ? "done" : "failed", failure);
      return value;
    },
    drop: (reason) => end("skipped", reason),
  };
}
