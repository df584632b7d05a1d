import { sql, type SQL } from "drizzle-orm";
import type { PolicyAction } from "../db/schema/index.ts";
import { maxSourceBytes, VERSION_OF_KEY, type TagSpec, type VersionSpec } from "./action-specs.ts";
import type { PlanOptions } from "./options.ts";

/** What a tag or version plan does to each file (null for the other actions). */
export interface ActionSpecs {
  tag?: TagSpec | null | undefined;
  versionSpec?: VersionSpec | null | undefined;
}

/** Deleting and archiving lose the file at Uploadcare, and so does a version plan that deletes originals; storing, tagging and copying lose nothing. */
export function isDestructive(action: PolicyAction, specs: ActionSpecs = {}): boolean {
  return action === "delete" || action === "archive" || (action === "version" && specs.versionSpec?.deleteOriginal === true);
}

/** Holds keep a file from being deleted, archived, or having its metadata rewritten by a tag plan. */
function holdsApply(action: PolicyAction, specs: ActionSpecs): boolean {
  return isDestructive(action, specs) || action === "tag";
}

export const ALREADY_TAGGED = "already tagged: every key of the plan has its value";

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
export function compileProtection(action: PolicyAction, options: PlanOptions, now: Date, specs: ActionSpecs = {}): SQL {
  const cases: SQL[] = [];
  if (holdsApply(action, specs)) {
    for (const key of holdKeys(options)) {
      cases.push(sql`when lower(f.metadata ->> ${key}::text) = lower(${options.holdValue}::text) then ${holdReason(key, options.holdValue)}::text`);
    }
  }
  if (isDestructive(action, specs)) {
    if (options.recentUploadHours > 0) {
      const since = new Date(now.getTime() - options.recentUploadHours * 3_600_000).toISOString();
      cases.push(sql`when f.datetime_uploaded > ${since}::timestamptz then ${recentReason(options)}::text`);
    }
  }
  cases.push(sql`when f.missing_since is not null then 'missing: not listed by Uploadcare since ' || to_char(f.missing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`);
  if (action === "version" && specs.versionSpec) cases.push(...versionExclusions(specs.versionSpec));
  if (action === "tag" && specs.tag) cases.push(sql`when ${alreadyTagged(specs.tag)} then ${ALREADY_TAGGED}::text`);
  return sql`(case ${sql.join(cases, sql` `)} else null end)`;
}

/** The files an action can apply to at all: storing needs an unstored file, deleting and archiving a live one. */
export function actionScope(action: PolicyAction): SQL {
  return action === "store" ? sql`(f.datetime_removed is null and f.datetime_stored is null)` : sql`f.datetime_removed is null`;
}

/** True when the file's metadata already is what the tag would make it. */
function alreadyTagged(tag: TagSpec): SQL {
  const checks = [
    ...Object.entries(tag.set ?? {}).map(([k, v]) => sql`(f.metadata ->> ${k}::text) is not distinct from ${v}::text`),
    ...(tag.remove ?? []).map((k) => sql`(f.metadata ->> ${k}::text) is null`),
  ];
  return sql`(${sql.join(checks, sql` and `)})`;
}

/**
 * Files a version plan leaves out at proposal rather than fail at apply:
 * sources Uploadcare refuses to copy (over 100 MB with operations, 5 GB
 * without), and copies ucledger made itself (no versions of versions).
 */
function versionExclusions(spec: VersionSpec): SQL[] {
  const max = maxSourceBytes(spec);
  const limit = spec.operations ? "100 MB with CDN operations" : "5 GB";
  return [
    sql`when f.size > ${max}::bigint then ${`too large: Uploadcare copies sources of at most ${limit}`}::text || ' (this one is ' || round(f.size / 1048576.0, 1)::text || ' MB)'`,
    sql`when (f.metadata ->> ${VERSION_OF_KEY}::text) is not null then 'a version ucledger made (of ' || (f.metadata ->> ${VERSION_OF_KEY}::text) || ')'`,
  ];
}
