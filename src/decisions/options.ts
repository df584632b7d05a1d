import { z } from "zod";
import { MetadataKey, safeText } from "./conditions.ts";

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

export const DEFAULT_HOLD_KEY = "ucledger_hold";
export const DEFAULT_HOLD_VALUE = "true";

/** What a proposal may set; anything left out takes the default. */
export const PlanOptionsInput = z.strictObject({
  /** A file whose metadata has this key with `holdValue` is never deleted or archived. */
  holdKey: MetadataKey.optional(),
  holdValue: safeText(512).optional(),
  /** Files uploaded less than this many hours before the plan (or its apply) are never deleted or archived. */
  recentUploadHours: z.number().nonnegative("must be 0 or more").max(24 * 365).optional(),
  expiresInHours: z.number().positive("must be more than 0").max(24 * 90, "must be at most 2160 (90 days)").optional(),
  /** Halt once failed / (done + failed) exceeds this, after at least `haltMinAttempted` attempts. */
  haltFailureRate: z.number().min(0, "must be from 0 to 1").max(1, "must be from 0 to 1").optional(),
  haltMinAttempted: z.number().int().min(1, "must be at least 1").max(1_000_000).optional(),
  twoApproversAboveFiles: z.number().int().nonnegative().optional(),
  twoApproversAboveBytes: z.number().int().nonnegative().optional(),
});
export type PlanOptionsInput = z.infer<typeof PlanOptionsInput>;

export interface PlanOptions {
  holdKey: string;
  holdValue: string;
  recentUploadHours: number;
  expiresInHours: number;
  haltFailureRate: number;
  haltMinAttempted: number;
  twoApproversAboveFiles: number;
  twoApproversAboveBytes: number;
}

/** The options a plan freezes: defaults, the proposer's choices, and the deployment's approval limits as ceilings. */
export function resolvePlanOptions(input: PlanOptionsInput | undefined, settings: DecisionSettings = DEFAULT_DECISION_SETTINGS): PlanOptions {
  const o = input ?? {};
  return {
    holdKey: o.holdKey ?? DEFAULT_HOLD_KEY,
    holdValue: o.holdValue ?? DEFAULT_HOLD_VALUE,
    recentUploadHours: o.recentUploadHours ?? 1,
    expiresInHours: o.expiresInHours ?? settings.expiresInHours,
    haltFailureRate: o.haltFailureRate ?? 0.1,
    haltMinAttempted: o.haltMinAttempted ?? 20,
    twoApproversAboveFiles: Math.min(o.twoApproversAboveFiles ?? Infinity, settings.twoApproversAboveFiles),
    twoApproversAboveBytes: Math.min(o.twoApproversAboveBytes ?? Infinity, settings.twoApproversAboveBytes),
  };
}

/** 1, or 2 when the plan is large by count or by bytes. */
export function requiredApprovals(options: Pick<PlanOptions, "twoApproversAboveFiles" | "twoApproversAboveBytes">, files: number, bytes: number): number {
  return files > options.twoApproversAboveFiles || bytes > options.twoApproversAboveBytes ? 2 : 1;
}

/** Past the halting threshold? Skipped items are not attempts. */
export function shouldHalt(options: Pick<PlanOptions, "haltFailureRate" | "haltMinAttempted">, done: number, failed: number): boolean {
  const attempted = done + failed;
  return attempted >= options.haltMinAttempted && failed / attempted > options.haltFailureRate;
}
