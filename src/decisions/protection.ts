import { sql, type SQL } from "drizzle-orm";
import type { PolicyAction } from "../db/schema/index.ts";
import type { PlanOptions } from "./options.ts";

/** Deleting and archiving lose the file at Uploadcare; storing loses nothing. */
export function isDestructive(action: PolicyAction): boolean {
  return action === "delete" || action === "archive";
}

/** The metadata keys that hold a file under these options: the deployment's first, then the plan's own. */
export function holdKeys(options: Pick<PlanOptions, "holdKey" | "extraHoldKeys">): string[] {
  return [...new Set([options.holdKey, ...(options.extraHoldKeys ?? [])])];
}

export function holdReason(key: string, value: string): string {
  return `hold: metadata ${key} = ${JSON.stringify(value)}`;
}

export function recentReason(options: Pick<PlanOptions, "recentUploadHours">): string {
  return `recent: uploaded less than ${options.recentUploadHours} h before the check`;
}

/**
 * Why a file must be left alone whatever the policy says, as SQL over the
 * alias `f` giving a reason text or null. Pure. For deletes and archives: any
 * hold key in metadata with the hold value (compared case-insensitively, so
 * `True` holds too) and a recent upload; for every action: a file the ledger
 * no longer sees listed. `now` is the time of the check: the proposal, then
 * each file's last look before it is sent.
 */
export function compileProtection(action: PolicyAction, options: PlanOptions, now: Date): SQL {
  const cases: SQL[] = [];
  if (isDestructive(action)) {
    for (const key of holdKeys(options)) {
      cases.push(sql`when lower(f.metadata ->> ${key}::text) = lower(${options.holdValue}::text) then ${holdReason(key, options.holdValue)}::text`);
    }
    if (options.recentUploadHours > 0) {
      const since = new Date(now.getTime() - options.recentUploadHours * 3_600_000).toISOString();
      cases.push(sql`when f.datetime_uploaded > ${since}::timestamptz then ${recentReason(options)}::text`);
    }
  }
  cases.push(sql`when f.missing_since is not null then 'missing: not listed by Uploadcare since ' || to_char(f.missing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`);
  return sql`(case ${sql.join(cases, sql` `)} else null end)`;
}

/** The files an action can apply to at all: storing needs an unstored file, deleting and archiving a live one. */
export function actionScope(action: PolicyAction): SQL {
  return action === "store" ? sql`(f.datetime_removed is null and f.datetime_stored is null)` : sql`f.datetime_removed is null`;
}
