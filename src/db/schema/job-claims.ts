import { bigint, integer, pgSequence, pgTable, primaryKey, text, index } from "drizzle-orm/pg-core";
import { microTimestamp, projectKey } from "./columns.ts";

/** Every claim and takeover draws a new token; a holder whose token is no longer the row's cannot commit. */
export const jobFencingTokens = pgSequence("job_fencing_tokens");

export const CLAIM_STATUSES = ["running", "done", "failed", "skipped"] as const;
export type ClaimStatus = (typeof CLAIM_STATUSES)[number];

/**
 * One row per run of a job for a project: a scheduled fire (`slot` is its
 * scheduled time; instances sharing the database race to insert it, and the
 * primary key lets exactly one win) or a run started by hand (job
 * `<stream>.manual`, `slot` is when it started). Migration 0017 adds the
 * partial unique index `job_claims_one_running_idx` on
 * `(project_key, job_run_group(job)) where status = 'running'`: one running
 * claim per project and group, so two runs of one stream never overlap. It is
 * custom SQL because drizzle-kit cannot express an index on a function.
 */
export const jobClaims = pgTable(
  "job_claims",
  {
    projectKey: projectKey(),
    job: text("job").notNull(),
    /** The scheduled time this fire belongs to. */
    slot: microTimestamp("slot").notNull(),
    fencingToken: bigint("fencing_token", { mode: "number" }).notNull(),
    /** The instance holding (or last holding) the lease. */
    holder: text("holder").notNull(),
    status: text("status").$type<ClaimStatus>().notNull(),
    claimedAt: microTimestamp("claimed_at").notNull(),
    leaseUntil: microTimestamp("lease_until").notNull(),
    finishedAt: microTimestamp("finished_at"),
    attempts: integer("attempts").notNull().default(1),
    error: text("error"),
  },
  (t) => [
    primaryKey({ name: "job_claims_pkey", columns: [t.projectKey, t.job, t.slot] }),
    // Takeover scans look only at running claims.
    index("job_claims_running_idx").on(t.status, t.leaseUntil),
  ],
);
