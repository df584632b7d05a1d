import type { Db } from "../db/client.ts";
import type { PlanItem, PlanRecord } from "../db/queries/plans.ts";
import type { PlanItemStatus, PlanStatus } from "../db/schema/index.ts";
import type { UploadcareFile } from "../sync/uploadcare/file-object.ts";
import type { AdaptiveLimit } from "./adaptive-limit.ts";
import type { ItemChange } from "./items.ts";
import type { PlanOptions } from "./options.ts";
import type { ActionSpecs } from "./protection.ts";
import type { Verdict } from "./recheck.ts";
import type { Logger } from "../logger.ts";
import type { UploadcareClient } from "../sync/uploadcare/client.ts";
import type { PlanLock } from "./lock.ts";
import type { ProtectionSettings } from "./options.ts";

/** What applying a plan needs, and what it reports (the run itself: apply.ts). */

export interface ApplyDeps {
  db: Db;
  client: UploadcareClient;
  logger: Logger;
  now: () => Date;
  lock: PlanLock;
  /** Re-reads and copies in flight at once. */
  concurrency?: number;
  /** Called after every batch (the CLI's progress line). */
  onBatch?: (progress: BatchProgress) => void;
  /** The deployment's protection now (from the environment): a plan frozen with looser options is not applied. */
  protection?: ProtectionSettings;
}

export interface BatchProgress {
  batch: number;
  sent: number;
  done: number;
  failed: number;
  skipped: number;
}

export interface ApplySummary {
  planId: string;
  projectKey: string;
  status: PlanStatus;
  /** Batches this run worked through. */
  batches: number;
  /** Items this run finished, by outcome. */
  done: number;
  skipped: number;
  failed: number;
  /** Items found `sending` from an interrupted run and settled by re-reading them. */
  recovered: number;
  haltReason: string | null;
}

/**
 * One apply run as the action-specific steps see it (tag-apply.ts,
 * version-apply.ts): the plan as frozen, the client of the run, and the
 * run's own ways to look again and to record results.
 */
export interface ActionRun {
  deps: ApplyDeps;
  plan: PlanRecord;
  actor: string;
  runId: string;
  client: UploadcareClient;
  options: PlanOptions;
  specs: ActionSpecs;
  concurrency: number;
  /** Writes in flight at once, halved on 429s (tag and version requests). */
  limit: AdaptiveLimit;
  summary: ApplySummary;
  /** Re-reads the items' files and judges them now, writing nothing. */
  recheck(items: PlanItem[]): Promise<Verdict[]>;
  /** Re-reads and judges; the changed and protected are skipped with the reason; answers the rest. */
  judge(items: PlanItem[]): Promise<Verdict[]>;
  /** Item results with the ledger's copy of each done file and its audit events, in one transaction; items move only from `from` (default `sending`). */
  record(done: UploadcareFile[], changes: ItemChange[], from?: PlanItemStatus[]): Promise<void>;
}
