import type { UploadcareClient } from "../sync/uploadcare/client.ts";
import type { PlanLock } from "./lock.ts";
import type { DecisionSettings } from "./options.ts";

/**
 * What the API needs to act on plans, built by the entry point (the one place
 * clients are built) and injected: a recorded Uploadcare client per project,
 * the lock that keeps one apply per plan, and the deployment's limits.
 */
export interface DecisionServices {
  clientFor(projectKey: string): UploadcareClient;
  /** Default: a lock within this process (right for PGlite). */
  lock?: PlanLock;
  settings?: DecisionSettings;
}
