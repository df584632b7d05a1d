import { randomUUID } from "node:crypto";
import cron, { type ScheduledTask } from "node-cron";
import type { Db, Queryable } from "../db/client.ts";
import {
  assertFence,
  finishClaim,
  isRunningElsewhere,
  lastSlot,
  recordSkip,
  renewLease,
  takeOverExpired,
  tryClaim,
  type Claim,
} from "../db/queries/job-claims.ts";
import type { Logger } from "../logger.ts";
import { previousSlot, slotOf } from "./slots.ts";

export interface JobRunContext {
  projectKey: string;
  slot: string;
  /** Call inside every transaction the job commits: refuses the write once the lease was taken over. */
  fence: (tx: Queryable) => Promise<void>;
  /** Aborted when this instance loses the lease or stops. */
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
 * instance runs it. A run holds a lease it renews; an instance that stops
 * renewing (killed, frozen) has its claim taken over with a new fencing token,
 * and its late writes are refused by `fence`.
 */
export class Scheduler {
  readonly instanceId: string;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;
  private readonly tasks: ScheduledTask[] = [];
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private takeoverTimer: NodeJS.Timeout | undefined;
  private jobs: JobDefinition[] = [];
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {
    this.instanceId = options.instanceId ?? `ucledger-${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 3;
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
    await Promise.all(job.projectKeys.map((projectKey) => this.claimAndRun(job, projectKey, slot)));
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

  private async claimAndRun(job: JobDefinition, projectKey: string, slot: string): Promise<void> {
    const { db } = this.options;
    const key = { projectKey, job: job.name, slot };
    const local = `${projectKey}|${job.name}`;
    try {
      if (this.inFlight.has(local) || (await isRunningElsewhere(db, projectKey, job.name, slot))) {
        if (await recordSkip(db, key, this.instanceId, "the previous run is still going")) this.emit("skipped", job.name, projectKey);
        return;
      }
      const claim = await tryClaim(db, key, this.instanceId, this.leaseMs);
      if (!claim) return; // Another instance has this slot.
      this.emit("claimed", job.name, projectKey);
      await this.track(local, this.runClaim(job, claim));
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
        void this.track(`${claim.projectKey}|${job.name}`, this.runClaim(job, claim));
      }
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message }, "scheduler takeover check failed");
    }
  }

  private async runClaim(job: JobDefinition, claim: Claim): Promise<void> {
    const { db } = this.options;
    const controller = new AbortController();
    this.controllers.add(controller);
    const logger = this.options.logger.child({ job: job.name, project: claim.projectKey, slot: claim.slot, fencingToken: claim.fencingToken });
    const heartbeat = setInterval(() => {
      renewLease(db, claim, this.leaseMs).then(
        (held) => {
          if (!held) controller.abort(new Error("lease lost"));
        },
        () => {},
      );
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    try {
      await job.run({ projectKey: claim.projectKey, slot: claim.slot, fence: (tx) => assertFence(tx, claim), signal: controller.signal, logger });
      if (await finishClaim(db, claim, "done", null)) this.emit("succeeded", job.name, claim.projectKey);
      else this.emit("fenced", job.name, claim.projectKey);
    } catch (err) {
      const message = (err as Error).message;
      if ((err as Error).name === "FencedError") {
        this.emit("fenced", job.name, claim.projectKey);
        logger.warn({ err: message }, "job write refused: lease was taken over");
      } else {
        this.emit("failed", job.name, claim.projectKey);
        logger.error({ err: message }, "scheduled job failed");
        await finishClaim(db, claim, "failed", message).catch(() => false);
      }
    } finally {
      clearInterval(heartbeat);
      this.controllers.delete(controller);
    }
  }

  private track(key: string, run: Promise<void>): Promise<void> {
    const tracked = run.finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, tracked);
    return tracked;
  }

  private emit(event: SchedulerEvent, job: string, projectKey: string): void {
    this.options.onEvent?.(event, job, projectKey);
  }
}
