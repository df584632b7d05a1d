import { randomUUID } from "node:crypto";
import cron, { type ScheduledTask } from "node-cron";
import type { Db, Queryable } from "../db/client.ts";
import { claimRun, describeHolder, finishClaim, lastSlot, recordSkip, takeOverExpired, type Claim } from "../db/queries/job-claims.ts";
import type { Logger } from "../logger.ts";
import { isManualJob, supersedeReason } from "./exclusion.ts";
import { holdLease, LeaseLostError } from "./lease.ts";
import { nextSlotAfter, previousSlot, slotOf } from "./slots.ts";

export interface JobRunContext {
  projectKey: string;
  slot: string;
  /** Call inside every transaction the job commits: refuses the write once the lease was taken over. */
  fence: (tx: Queryable) => Promise<void>;
  /** Aborted (with a LeaseLostError) when this instance loses the lease: pass it to anything that pages. */
  signal: AbortSignal;
  logger: Logger;
}

export interface JobDefinition {
  name: string;
  cron: string;
  timezone: string;
  projectKeys: string[];
  run(ctx: JobRunContext): Promise<void>;
}

export type SchedulerEvent = "claimed" | "skipped" | "failed" | "succeeded" | "took_over" | "fenced";

export interface SchedulerOptions {
  db: Db;
  logger: Logger;
  instanceId?: string;
  /** How long a claim stays valid without renewal. */
  leaseMs?: number;
  /** Lease expiries before a slot is given up as failed. */
  maxAttempts?: number;
  onEvent?: (event: SchedulerEvent, job: string, projectKey: string) => void;
}

/**
 * Runs each fire of each job once across every instance sharing the database:
 * node-cron fires locally, and a `(project, job, slot)` claim row decides which
 * instance runs it. One run of a group goes at a time (migration 0017), so a
 * fire while another run of its group holds the claim (a slow previous slot, a
 * run started by hand) is recorded as skipped. A run holds a lease it renews;
 * an instance that stops renewing (killed, frozen) has its claim taken over
 * with a new fencing token, its late writes are refused by `fence`, and its
 * signal fires once it notices.
 */
export class Scheduler {
  readonly instanceId: string;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  /** How often a fire waiting for its group asks again. */
  private readonly turnPollMs: number;
  private readonly tasks: ScheduledTask[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private takeoverTimer: NodeJS.Timeout | undefined;
  private jobs: JobDefinition[] = [];
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {
    this.instanceId = options.instanceId ?? `ucledger-${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.turnPollMs = Math.max(50, Math.min(1_000, Math.floor(this.leaseMs / 4)));
  }

  /** Schedules the jobs, then runs each job's latest missed fire once. */
  async start(jobs: JobDefinition[]): Promise<void> {
    this.jobs = jobs;
    for (const job of jobs) {
      const task = cron.schedule(job.cron, (context) => this.fire(job, slotOf(context.date)), {
        name: job.name,
        timezone: job.timezone,
        // Overlap is handled per project below, with a recorded skip.
        noOverlap: false,
      });
      this.tasks.push(task);
    }
    this.takeoverTimer = setInterval(() => void this.takeOver(), Math.max(250, Math.floor(this.leaseMs / 2)));
    await this.catchUp(new Date());
  }

  /** Stops firing, aborts nothing that is running, and waits for in-flight runs to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.takeoverTimer);
    for (const task of this.tasks.splice(0)) await task.destroy();
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** Runs one slot of a job for each of its projects (what a cron fire does). */
  async fire(job: JobDefinition, slot: string): Promise<void> {
    if (this.stopped) return;
    // Tracked, so stop() also waits for fires still waiting for their turn (they give up when stopped).
    await this.track(Promise.all(job.projectKeys.map((projectKey) => this.claimAndRun(job, projectKey, slot))).then(() => {}));
  }

  private async catchUp(now: Date): Promise<void> {
    for (const job of this.jobs) {
      const slot = previousSlot(job.cron, job.timezone, now);
      await Promise.all(
        job.projectKeys.map(async (projectKey) => {
          const last = await lastSlot(this.options.db, projectKey, job.name);
          if (last === null || new Date(last) < new Date(slot)) await this.claimAndRun(job, projectKey, slot);
        }),
      );
    }
  }

  /**
   * Claims the slot and runs it. When another run of the job's group holds the
   * claim: the job's own previous slot, or a run started by hand (which does the
   * same work), makes this fire a recorded skip; another scheduled job of the
   * group (on the default schedules every lane fires at :00 and :05) is waited
   * for, until this job's next slot takes over.
   */
  private async claimAndRun(job: JobDefinition, projectKey: string, slot: string): Promise<void> {
    const { db } = this.options;
    const key = { projectKey, job: job.name, slot };
    const skip = async (reason: string) => {
      if (await recordSkip(db, key, this.instanceId, reason)) this.emit("skipped", job.name, projectKey);
    };
    try {
      const giveUpAt = nextSlotAfter(job.cron, job.timezone, slot).getTime();
      for (;;) {
        const outcome = await claimRun(db, key, this.instanceId, this.leaseMs, (current) => supersedeReason(current, this.instanceId));
        if (outcome.kind === "taken") return; // Another instance has this slot.
        if (outcome.kind === "claimed") {
          this.emit("claimed", job.name, projectKey);
          await this.track(this.runClaim(job, outcome.claim));
          return;
        }
        const { holder } = outcome;
        if (holder.job === job.name) return await skip(`the previous run is still going: ${describeHolder(holder)}`);
        if (isManualJob(holder.job)) return await skip(`a run started by hand is going: ${describeHolder(holder)}`);
        // Stopping: another instance runs the slot, or the next start catches it up.
        if (this.stopped) return;
        if (Date.now() >= giveUpAt) return await skip(`waited for its turn until the next slot: ${describeHolder(holder)}`);
        await new Promise((r) => setTimeout(r, this.turnPollMs));
      }
    } catch (err) {
      this.options.logger.error({ job: job.name, project: projectKey, slot, err: (err as Error).message }, "scheduler could not claim a slot");
    }
  }

  private async takeOver(): Promise<void> {
    if (this.stopped) return;
    try {
      const claims = await takeOverExpired(this.options.db, this.instanceId, this.jobs.map((j) => j.name), this.leaseMs, this.maxAttempts);
      for (const claim of claims) {
        const job = this.jobs.find((j) => j.name === claim.job);
        if (!job) continue;
        this.emit("took_over", job.name, claim.projectKey);
        this.options.logger.warn({ job: job.name, project: claim.projectKey, slot: claim.slot }, "took over a claim whose lease expired");
        void this.track(this.runClaim(job, claim));
      }
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message }, "scheduler takeover check failed");
    }
  }

  private async runClaim(job: JobDefinition, claim: Claim): Promise<void> {
    const { db } = this.options;
    const logger = this.options.logger.child({ job: job.name, project: claim.projectKey, slot: claim.slot, fencingToken: claim.fencingToken });
    const lease = holdLease(db, claim, this.leaseMs, logger);
    try {
      await job.run({ projectKey: claim.projectKey, slot: claim.slot, fence: lease.fence, signal: lease.signal, logger });
      if (await finishClaim(db, claim, "done", null)) this.emit("succeeded", job.name, claim.projectKey);
      else this.emit("fenced", job.name, claim.projectKey);
    } catch (err) {
      const message = (err as Error).message;
      // A refused write or a fired signal: another run holds the claim now, and its outcome is not ours to record.
      if ((err as Error).name === "FencedError" || err instanceof LeaseLostError || lease.signal.aborted) {
        this.emit("fenced", job.name, claim.projectKey);
        logger.warn({ err: message }, "job stopped: its lease was taken over");
      } else {
        this.emit("failed", job.name, claim.projectKey);
        logger.error({ err: message }, "scheduled job failed");
        await finishClaim(db, claim, "failed", message).catch(() => false);
      }
    } finally {
      lease.release();
    }
  }

  private track(run: Promise<void>): Promise<void> {
    const tracked: Promise<void> = run.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    return tracked;
  }

  private emit(event: SchedulerEvent, job: string, projectKey: string): void {
    this.options.onEvent?.(event, job, projectKey);
  }
}
