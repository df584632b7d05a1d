import { sql } from "drizzle-orm";
import type { Db, Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import type { ClaimStatus } from "../schema/job-claims.ts";
import { canonicalTimestamp } from "../timestamps.ts";
import { isoColumn } from "./iso.ts";

export interface ClaimKey {
  projectKey: string;
  job: string;
  /** Canonical ISO timestamp of the scheduled slot (of the start, for a run started by hand). */
  slot: string;
}

export interface Claim extends ClaimKey {
  fencingToken: number;
}

/** The running claim that keeps another run of its group from starting. */
export interface RunHolder extends Claim {
  holder: string;
  claimedAt: string;
  leaseUntil: string;
  /** The lease ran out by the database's clock: its holder stopped renewing it. */
  expired: boolean;
}

export type ClaimOutcome =
  | { kind: "claimed"; claim: Claim }
  /** This slot already has a row: another instance claimed (or skipped) it. */
  | { kind: "taken" }
  /** Another run of the same group holds a live claim. */
  | { kind: "held"; holder: RunHolder };

/** The lease holder's writes stop being accepted once another instance holds a newer token. */
export class FencedError extends Error {
  constructor(claim: ClaimKey) {
    super(`lease lost: the lease on ${claim.job} for ${claim.projectKey} at ${claim.slot} was taken over: this instance's write is refused`);
    this.name = "FencedError";
  }
}

/** Attempts before claimRun gives up on a group that keeps changing hands under it. */
const CLAIM_ATTEMPTS = 5;

/**
 * Claims one run of a job for a project. The insert is the mutual exclusion:
 * it fails on the slot's primary key (another instance has the slot) or on
 * `job_claims_one_running_idx` (a run of the same group is going), atomically
 * on both backends. `slot: null` is a run started by hand, slotted at the
 * database's clock. A holder that `supersede` gives a reason for (its lease
 * expired, its process is gone) is ended with that reason, which fences it out,
 * and the claim is tried again: never started beside it.
 */
export async function claimRun(
  db: Db,
  key: Omit<ClaimKey, "slot"> & { slot: string | null },
  holder: string,
  leaseMs: number,
  supersede: (current: RunHolder) => string | null = () => null,
): Promise<ClaimOutcome> {
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    const slot = key.slot === null ? sql`clock_timestamp()` : sql`${key.slot}::timestamptz`;
    const [row] = await queryRows<{ fencing_token: number | string; slot: string }>(
      db,
      sql`insert into job_claims (project_key, job, slot, fencing_token, holder, status, claimed_at, lease_until)
          values (${key.projectKey}, ${key.job}, ${slot}, nextval('job_fencing_tokens'), ${holder}, 'running',
                  now(), now() + ${leaseMs} * interval '1 millisecond')
          on conflict do nothing
          returning fencing_token, slot::text as slot`,
    );
    if (row) {
      return { kind: "claimed", claim: { projectKey: key.projectKey, job: key.job, slot: canonicalTimestamp(row.slot), fencingToken: Number(row.fencing_token) } };
    }
    if (key.slot !== null && (await slotRecorded(db, { ...key, slot: key.slot }))) return { kind: "taken" };
    const current = await runningHolder(db, key.projectKey, key.job);
    // Gone between the insert and the read: try again.
    if (!current) continue;
    const reason = supersede(current);
    if (reason === null) return { kind: "held", holder: current };
    await finishClaim(db, current, "failed", reason);
  }
  throw new Error(`could not claim ${key.job} for ${key.projectKey}: runs of its group kept starting and ending under it`);
}

async function slotRecorded(db: Db, key: ClaimKey): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`select 1 from job_claims where project_key = ${key.projectKey} and job = ${key.job} and slot = ${key.slot}::timestamptz`,
  );
  return rows.length > 0;
}

/** The running claim of the job's group for the project, if any. */
export async function runningHolder(db: Queryable, projectKey: string, job: string): Promise<RunHolder | null> {
  const [row] = await queryRows<{
    job: string;
    slot: string;
    fencing_token: number | string;
    holder: string;
    claimed_at: string;
    lease_until: string;
    expired: boolean;
  }>(
    db,
    sql`select job, slot::text as slot, fencing_token, holder, ${sql.raw(isoColumn("claimed_at"))}, ${sql.raw(isoColumn("lease_until"))},
               lease_until < now() as expired
        from job_claims
        where project_key = ${projectKey} and status = 'running' and job_run_group(job) = job_run_group(${job})`,
  );
  if (!row) return null;
  return {
    projectKey,
    job: row.job,
    slot: canonicalTimestamp(row.slot),
    fencingToken: Number(row.fencing_token),
    holder: row.holder,
    claimedAt: row.claimed_at,
    leaseUntil: row.lease_until,
    expired: row.expired,
  };
}

/** Who holds a group, for refusals and skips: `files.reconcile (slot …) held by ucledger-1a2b3c4d since …`. */
export function describeHolder(h: RunHolder): string {
  const what = h.job.endsWith(".manual") ? h.job : `${h.job} (slot ${h.slot})`;
  return `${what} held by ${h.holder} since ${h.claimedAt}${h.expired ? `, lease expired at ${h.leaseUntil}` : ""}`;
}

/**
 * Records a run that was not started because its group was held. A scheduled
 * fire records its slot (false when another instance already did); a refused
 * run started by hand (`slot: null`) is slotted at the database's clock.
 */
export async function recordSkip(db: Db, key: Omit<ClaimKey, "slot"> & { slot: string | null }, holder: string, reason: string): Promise<boolean> {
  const slot = key.slot === null ? sql`clock_timestamp()` : sql`${key.slot}::timestamptz`;
  const rows = await queryRows(
    db,
    sql`insert into job_claims (project_key, job, slot, fencing_token, holder, status, claimed_at, lease_until, finished_at, error)
        values (${key.projectKey}, ${key.job}, ${slot}, nextval('job_fencing_tokens'), ${holder}, 'skipped',
                now(), now(), now(), ${reason})
        on conflict do nothing returning 1`,
  );
  return rows.length > 0;
}

/** Extends the lease; false when the claim was taken over (the holder must stop). */
export async function renewLease(db: Db, claim: Claim, leaseMs: number): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`update job_claims set lease_until = now() + ${leaseMs} * interval '1 millisecond'
        where project_key = ${claim.projectKey} and job = ${claim.job} and slot = ${claim.slot}::timestamptz
          and fencing_token = ${claim.fencingToken} and status = 'running'
        returning 1`,
  );
  return rows.length > 0;
}

/**
 * Takes over claims whose holder stopped renewing (crashed, killed, partitioned
 * away) for the jobs this instance knows. Each gets a new fencing token, so the
 * old holder's late writes are refused. The row stays `running`, so the group
 * stays held: the next slot is skipped, never started beside the retried one.
 */
export async function takeOverExpired(db: Db, holder: string, jobs: string[], leaseMs: number, maxAttempts: number): Promise<Claim[]> {
  if (jobs.length === 0) return [];
  await db.execute(sql`
    update job_claims set status = 'failed', finished_at = now(), error = 'lease expired ' || attempts || ' times; giving up'
    where status = 'running' and lease_until < now() and attempts >= ${maxAttempts}
      and job = any(${sql.param(jobs)}::text[])`);
  const rows = await queryRows<{ project_key: string; job: string; slot: string; fencing_token: number | string }>(
    db,
    sql`update job_claims set holder = ${holder}, fencing_token = nextval('job_fencing_tokens'), claimed_at = now(),
               lease_until = now() + ${leaseMs} * interval '1 millisecond', attempts = attempts + 1
        where status = 'running' and lease_until < now() and attempts < ${maxAttempts}
          and job = any(${sql.param(jobs)}::text[])
        returning project_key, job, slot::text as slot, fencing_token`,
  );
  return rows.map((r) => ({ projectKey: r.project_key, job: r.job, slot: canonicalTimestamp(r.slot), fencingToken: Number(r.fencing_token) }));
}

/**
 * Call inside a transaction that writes on behalf of a claim: it fails when the
 * claim has a newer token, and its share lock keeps a takeover from slipping in
 * before the transaction commits.
 */
export async function assertFence(tx: Queryable, claim: Claim): Promise<void> {
  const rows = await queryRows(
    tx,
    sql`select 1 from job_claims
        where project_key = ${claim.projectKey} and job = ${claim.job} and slot = ${claim.slot}::timestamptz
          and fencing_token = ${claim.fencingToken} and status = 'running'
        for share`,
  );
  if (rows.length === 0) throw new FencedError(claim);
}

/** Ends a claim; false when it had been taken over, so the outcome is not this holder's to record. */
export async function finishClaim(db: Db, claim: Claim, status: Exclude<ClaimStatus, "running">, error: string | null): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`update job_claims set status = ${status}, finished_at = now(), error = ${error}
        where project_key = ${claim.projectKey} and job = ${claim.job} and slot = ${claim.slot}::timestamptz
          and fencing_token = ${claim.fencingToken} and status = 'running'
        returning 1`,
  );
  return rows.length > 0;
}

/** The newest slot recorded for a job and project, for catching up missed fires. */
export async function lastSlot(db: Db, projectKey: string, job: string): Promise<string | null> {
  const [row] = await queryRows<{ slot: string | null }>(
    db,
    sql`select max(slot)::text as slot from job_claims where project_key = ${projectKey} and job = ${job}`,
  );
  return row?.slot ? canonicalTimestamp(row.slot) : null;
}
