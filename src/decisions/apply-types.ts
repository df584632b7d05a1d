import type { Db } from "../db/client.ts";
import type { PlanStatus } from "../db/schema/index.ts";
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
