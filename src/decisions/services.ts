import type { UploadcareClient } from "../sync/uploadcare/client.ts";
import type { PlanLock } from "./lock.ts";
import type { DecisionSettings, ProtectionSettings } from "./options.ts";
import type { ApprovalSettings } from "./review.ts";

/**
 * What the API needs to act on plans, built by the entry point (the one place
 * clients are built) and injected: a recorded Uploadcare client per project,
 * the lock that keeps one apply per plan, and the deployment's limits and
 * approval rules.
 */
export interface DecisionServices {
  clientFor(projectKey: string): UploadcareClient;
  /** Default: a lock within this process (right for PGlite). */
  lock?: PlanLock;
  settings?: DecisionSettings;
  /** The deployment's hold key, recent-upload window and halting limits (plans may only tighten them); default: the built-in ones. */
  protection?: ProtectionSettings;
  /** How many distinct approvers besides the proposer; default DEFAULT_APPROVAL_SETTINGS. */
  approvals?: ApprovalSettings;
}
