import { z } from "zod";
import { PROTECTION_DEFAULTS, type ProtectionSettings } from "../env.ts";
import { ValidationError } from "../errors.ts";
import { MetadataKey, safeText } from "./conditions.ts";

export type { ProtectionSettings };

/**
 * Deployment-wide limits of decisions. A plan's own options may be stricter
 * than these (fewer files before a second approver is needed), never looser,
 * so the person proposing cannot talk a large plan down to one approver.
 */
export interface DecisionSettings {
  /** Plans acting on more files than this need two different approvers. */
  twoApproversAboveFiles: number;
  /** Plans acting on more bytes than this need two different approvers. */
  twoApproversAboveBytes: number;
  /** A plan not approved within this many hours expires. */
  expiresInHours: number;
}

export const DEFAULT_DECISION_SETTINGS: DecisionSettings = {
  twoApproversAboveFiles: 1_000,
  twoApproversAboveBytes: 10 * 1024 ** 3,
  expiresInHours: 72,
};

/** The deployment's protection when the entry point configures none (UCLEDGER_HOLD_KEY and friends unset). */
export const DEFAULT_PROTECTION_SETTINGS: ProtectionSettings = PROTECTION_DEFAULTS;
export const DEFAULT_HOLD_KEY = PROTECTION_DEFAULTS.holdKey;
export const DEFAULT_HOLD_VALUE = PROTECTION_DEFAULTS.holdValue;

/** Hold keys a plan may add to the deployment's. */
export const EXTRA_HOLD_KEYS_MAX = 20;

/**
 * What a proposal may set; anything left out takes the deployment's setting.
 * Protection options may only tighten the deployment's (see `loosenings`).
 */
export const PlanOptionsInput = z.strictObject({
  /** Only the deployment's own hold key (UCLEDGER_HOLD_KEY) is accepted: a plan cannot replace it. */
  holdKey: MetadataKey.optional(),
  /** Only the deployment's own hold value (UCLEDGER_HOLD_VALUE, any case) is accepted. */
  holdValue: safeText(512).optional(),
  /** More metadata keys that hold a file (with the deployment's hold value), besides the deployment's key. */
  extraHoldKeys: z.array(MetadataKey).max(EXTRA_HOLD_KEYS_MAX, `at most ${EXTRA_HOLD_KEYS_MAX} keys`).optional(),
  /** Files uploaded less than this many hours before the plan (or its apply) are never deleted or archived. At least the deployment's. */
  recentUploadHours: z.number().nonnegative("must be 0 or more").max(24 * 365).optional(),
  expiresInHours: z.number().positive("must be more than 0").max(24 * 90, "must be at most 2160 (90 days)").optional(),
  /** Halt once failed / (done + failed) exceeds this, after at least `haltMinAttempted` attempts. At most the deployment's. */
  haltFailureRate: z.number().min(0, "must be from 0 to 1").max(1, "must be from 0 to 1").optional(),
  haltMinAttempted: z.number().int().min(1, "must be at least 1").max(1_000_000).optional(),
  twoApproversAboveFiles: z.number().int().nonnegative().optional(),
  twoApproversAboveBytes: z.number().int().nonnegative().optional(),
});
export type PlanOptionsInput = z.infer<typeof PlanOptionsInput>;

export interface PlanOptions {
  holdKey: string;
  holdValue: string;
  /** Plans frozen before extra keys existed have none. */
  extraHoldKeys: string[];
  recentUploadHours: number;
  expiresInHours: number;
  haltFailureRate: number;
  haltMinAttempted: number;
  twoApproversAboveFiles: number;
  twoApproversAboveBytes: number;
}

type ProtectionOptions = Pick<PlanOptions, "holdKey" | "holdValue" | "recentUploadHours" | "haltFailureRate" | "haltMinAttempted">;

/**
 * Each protection option that is looser than the deployment's, as
 * `options.NAME: why`; empty when the options only tighten. Used on a
 * proposal's input (only what was given) and on a stored plan's frozen options
 * before it is applied, so a plan proposed under looser settings, or with a
 * version that let options loosen them, is never applied.
 */
export function loosenings(options: Partial<ProtectionOptions>, protection: ProtectionSettings): string[] {
  const out: string[] = [];
  if (options.holdKey !== undefined && options.holdKey !== protection.holdKey) {
    out.push(`options.holdKey: must be this deployment's hold key ${JSON.stringify(protection.holdKey)} (UCLEDGER_HOLD_KEY) or left out; a plan may add keys with extraHoldKeys, never replace it`);
  }
  if (options.holdValue !== undefined && options.holdValue.toLowerCase() !== protection.holdValue.toLowerCase()) {
    out.push("options.holdValue: must be this deployment's hold value (UCLEDGER_HOLD_VALUE) or left out");
  }
  if (options.recentUploadHours !== undefined && options.recentUploadHours < protection.recentUploadHours) {
    out.push(`options.recentUploadHours: must be at least ${protection.recentUploadHours} (UCLEDGER_RECENT_UPLOAD_HOURS): a plan may widen the recent-upload window, never narrow it`);
  }
  if (options.haltFailureRate !== undefined && options.haltFailureRate > protection.haltFailureRate) {
    out.push(`options.haltFailureRate: must be at most ${protection.haltFailureRate} (UCLEDGER_HALT_FAILURE_RATE): a plan may halt sooner, never later`);
  }
  if (options.haltMinAttempted !== undefined && options.haltMinAttempted > protection.haltMinAttempted) {
    out.push(`options.haltMinAttempted: must be at most ${protection.haltMinAttempted} (UCLEDGER_HALT_MIN_ATTEMPTED): a plan may halt sooner, never later`);
  }
  return out;
}

/**
 * The options a plan freezes: the deployment's protection, tightened by the
 * proposer's choices, and the deployment's approval limits as ceilings. An
 * option that would loosen the deployment's protection is refused (400),
 * naming each one.
 */
export function resolvePlanOptions(
  input: PlanOptionsInput | undefined,
  settings: DecisionSettings = DEFAULT_DECISION_SETTINGS,
  protection: ProtectionSettings = DEFAULT_PROTECTION_SETTINGS,
): PlanOptions {
  const o = input ?? {};
  const refused = loosenings(o, protection);
  if (refused.length > 0) throw new ValidationError(refused.join("; "));
  return {
    holdKey: protection.holdKey,
    holdValue: protection.holdValue,
    extraHoldKeys: [...new Set(o.extraHoldKeys ?? [])].filter((k) => k !== protection.holdKey),
    recentUploadHours: o.recentUploadHours ?? protection.recentUploadHours,
    expiresInHours: o.expiresInHours ?? settings.expiresInHours,
    haltFailureRate: o.haltFailureRate ?? protection.haltFailureRate,
    haltMinAttempted: o.haltMinAttempted ?? protection.haltMinAttempted,
    twoApproversAboveFiles: Math.min(o.twoApproversAboveFiles ?? Infinity, settings.twoApproversAboveFiles),
    twoApproversAboveBytes: Math.min(o.twoApproversAboveBytes ?? Infinity, settings.twoApproversAboveBytes),
  };
}

/**
 * Distinct approvers (never the proposer) a plan of this size needs: the
 * deployment's setting for plans within the size limits, or above them
 * (defaults 1 and 2; see `ApprovalSettings` in review.ts).
 */
export function requiredApprovals(
  options: Pick<PlanOptions, "twoApproversAboveFiles" | "twoApproversAboveBytes">,
  files: number,
  bytes: number,
  approvals: { required: number; requiredLarge: number } = { required: 1, requiredLarge: 2 },
): number {
  return files > options.twoApproversAboveFiles || bytes > options.twoApproversAboveBytes ? approvals.requiredLarge : approvals.required;
}

/** Past the halting threshold? Skipped items are not attempts. */
export function shouldHalt(options: Pick<PlanOptions, "haltFailureRate" | "haltMinAttempted">, done: number, failed: number): boolean {
  const attempted = done + failed;
  return attempted >= options.haltMinAttempted && failed / attempted > options.haltFailureRate;
}
