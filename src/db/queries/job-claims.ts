import { sql } from "drizzle-orm";
import type { Db, Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import type { ClaimStatus } from "../schema/job-claims.ts";
import { canonicalTimestamp } from "../timestamps.ts";

export interface ClaimKey {
  projectKey: string;
  job: string;
  /** Canonical ISO timestamp of the scheduled slot. */
  slot: string;
}

export interface Claim extends ClaimKey {
  fencingToken: number;
}

/** The lease holder's writes stop being accepted once another instance holds a newer token. */
export class FencedError extends Error {
  constructor(claim: ClaimKey) {
    super(`the lease on ${claim.job} for ${claim.projectKey} at ${claim.slot} was taken over: this instance's write is refused`);
    this.name = "FencedError";
  }
}

/** Inserts the claim for a slot; exactly one instance gets a row back. Times come from the database's clock. */
export async function tryClaim(db: Db, key: ClaimKey, holder: string, leaseMs: number): Promise<Claim | null> {
  const [row] = await queryRows<{ fencing_token: number | string }>(
    db,
    sql`insert into job_claims (project_key, job, slot, fencing_token, holder, status, claimed_at, lease_until)
        values (${key.projectKey}, ${key.job}, ${key.slot}::timestamptz, nextval('job_fencing_tokens'), ${holder}, 'running',
                now(), now() + ${leaseMs} * interval '1 millisecond')
        on conflict do nothing
        returning fencing_token`,
  );
  return row ? { ...key, fencingToken: Number(row.fencing_token) } : null;
}

/** Records a slot this instance will not run (for example: the previous run is still going). */
export async function recordSkip(db: Db, key: ClaimKey, holder: string, reason: string): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`insert into job_claims (project_key, job, slot, fencing_token, holder, status, claimed_at, lease_until, finished_at, error)
        values (${key.projectKey}, ${key.job}, ${key.slot}::timestamptz, nextval('job_fencing_tokens'), ${holder}, 'skipped',
                now(), now(), now(), ${reason})
        on conflict do nothing returning 1`,
  );
  return rows.length > 0;
}

/** True when another fire of the same job and project still holds a live lease. */
export async function isRunningElsewhere(db: Db, projectKey: string, job: string, slot: string): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`select 1 from job_claims where project_key = ${projectKey} and job = ${job} and slot <> ${slot}::timestamptz
        and status = 'running' and lease_until > now() limit 1`,
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
 * old holder's late writes are refused.
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
