import { z } from "zod";
import type { PlanRecord } from "../db/queries/plans.ts";
import { ConflictError } from "../errors.ts";
import { UploadcareFile } from "../sync/uploadcare/file-object.ts";
import { loosenings, type ProtectionSettings } from "./options.ts";

/*
 * What apply reads off a plan as it was frozen, and off Uploadcare's answers,
 * apart from the run itself (apply.ts).
 */

/** The options a plan froze, all present. */
export const FrozenOptions = z.object({
  holdKey: z.string(),
  holdValue: z.string(),
  extraHoldKeys: z.array(z.string()).default([]),
  recentUploadHours: z.number(),
  expiresInHours: z.number(),
  haltFailureRate: z.number(),
  haltMinAttempted: z.number(),
  twoApproversAboveFiles: z.number(),
  twoApproversAboveBytes: z.number(),
});

/**
 * A plan's frozen options must be at least as strict as the deployment's
 * protection now: a plan proposed before the settings were tightened, or by a
 * version that let options loosen them, is refused rather than applied.
 */
export function checkFrozenProtection(plan: PlanRecord, protection: ProtectionSettings): void {
  const frozen = FrozenOptions.safeParse(plan.options);
  if (!frozen.success) throw new ConflictError(`plan ${plan.id} holds options this version cannot read: cancel it and propose again`);
  const refused = loosenings(frozen.data, protection);
  if (refused.length > 0) {
    throw new ConflictError(`plan ${plan.id} was proposed with protection looser than this deployment's (${refused.join("; ")}): it cannot be applied; cancel it and propose again`);
  }
}

/**
 * The batch answer is camelized by the SDK and carries no appdata, so the
 * ledger takes the file as re-read just before the batch and lays over it the
 * top-level values Uploadcare answered (times of store and removal, the CDN URL).
 */
export function overlay(before: UploadcareFile, answered: Record<string, unknown>): UploadcareFile {
  const merged: Record<string, unknown> = { ...before };
  for (const [key, value] of Object.entries(answered)) {
    if (value !== null && typeof value === "object") continue;
    merged[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  }
  // Validated, but returned as built: zod's copy would turn a `__proto__` metadata key into a prototype.
  UploadcareFile.parse(merged);
  return merged as UploadcareFile;
}
