import { sql, type SQL } from "drizzle-orm";
import { z } from "zod";
import { fileReferenceStatus } from "../db/queries/reference-status.ts";
import { FILE_STATES, type FileState } from "../db/schema/index.ts";

/**
 * Policy conditions and their compiler: conditions in, SQL out, no I/O.
 *
 * Compiled SQL reads a row shaped like `files` under the alias `f`: the
 * `files` table when proposing, and a relation built from the files as
 * Uploadcare answers them when applying, so one definition decides both
 * what a plan matches and whether a file still matches when it is acted on.
 *
 * To add a kind: a zod schema with a literal `kind`, a `ConditionKind` entry
 * in CONDITION_KINDS (TypeScript refuses the map until it has one), and its
 * schema in the `Condition` union. A condition that needs other tables joins
 * them through `f.project_key` and `f.uuid` in a subquery.
 */

/** Column `name` of the row being judged. */
export const fileColumn = (name: string): SQL => sql.raw(`f.${name}`);

/** The state of the row being judged: removed wins over stored. */
export const STATE_SQL = sql`(case when f.datetime_removed is not null then 'removed' when f.datetime_stored is not null then 'stored' else 'unstored' end)`;

const STATE_PREDICATES: Record<FileState, SQL> = {
  removed: sql`f.datetime_removed is not null`,
  stored: sql`(f.datetime_removed is null and f.datetime_stored is not null)`,
  unstored: sql`(f.datetime_removed is null and f.datetime_stored is null)`,
};

export function statePredicate(states: readonly FileState[]): SQL {
  const parts = [...new Set(states)].map((s) => STATE_PREDICATES[s]);
  return parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` or `)})`;
}

export interface CompileContext {
  /** The reference time of age conditions: the moment the plan was proposed. */
  now: Date;
  /**
   * When the files are being judged (default `now`): at apply, the re-check
   * reads references as they are then, so a file referenced since the plan,
   * or now held by a stale source, shows as changed evidence and is skipped.
   */
  checkedAt?: Date;
}

export interface ConditionKind<C> {
  /** SQL that is true for the files the condition matches. */
  where(condition: C, ctx: CompileContext): SQL;
  /** What the condition looked at: evidence key → SQL value (anything jsonb_build_object takes). */
  evidence(condition: C, ctx: CompileContext): Record<string, SQL>;
  /** False when the condition lets every file through, so it cannot narrow a policy. */
  restricts(condition: C): boolean;
  /** One line for people. */
  describe(condition: C): string;
}

const HOURS_MAX = 24 * 365 * 100;
const hours = z.number({ message: "must be a number of hours" }).positive("must be more than 0").max(HOURS_MAX, `must be at most ${HOURS_MAX}`);
const bytes = z.number({ message: "must be a number of bytes" }).int("must be a whole number").nonnegative("must be 0 or more").max(Number.MAX_SAFE_INTEGER);
/** Text that Postgres can store (no NUL, in text or jsonb), within bounds. */
export const safeText = (max: number, min = 1) =>
  z
    .string()
    .min(min, "must not be empty")
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !s.includes("\u0000"), "must not contain NUL characters");

/** Uploadcare's metadata key rule (reference section 6). */
export const MetadataKey = z.string().regex(/^[\w\-.:]{1,64}$/, "must be 1-64 letters, digits, '_', '-', '.' or ':'");

export const StateCondition = z.strictObject({
  kind: z.literal("state"),
  in: z.array(z.enum(FILE_STATES, { message: `must be one of ${FILE_STATES.join(", ")}` })).min(1, "must name at least one state"),
});

export const AgeCondition = z
  .strictObject({
    kind: z.literal("age"),
    /** Uploaded at least this long before the reference time. */
    olderThanHours: hours.optional(),
    /** Uploaded less than this long before the reference time. */
    newerThanHours: hours.optional(),
  })
  .refine((c) => c.olderThanHours !== undefined || c.newerThanHours !== undefined, "needs olderThanHours or newerThanHours")
  .refine(
    (c) => c.olderThanHours === undefined || c.newerThanHours === undefined || c.olderThanHours < c.newerThanHours,
    "olderThanHours must be less than newerThanHours, or nothing matches",
  );

export const SizeCondition = z
  .strictObject({ kind: z.literal("size"), minBytes: bytes.optional(), maxBytes: bytes.optional() })
  .refine((c) => c.minBytes !== undefined || c.maxBytes !== undefined, "needs minBytes or maxBytes")
  .refine((c) => c.minBytes === undefined || c.maxBytes === undefined || c.minBytes <= c.maxBytes, "minBytes must not exceed maxBytes");

const MIME_PATTERN = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)?$/;
export const MimeCondition = z.strictObject({
  kind: z.literal("mime"),
  /** Exact types (`image/png`) or a family (`image/*` or `image/`). */
  types: z
    .array(
      z
        .string()
        .transform((s) => s.trim().toLowerCase())
        .pipe(z.string().regex(MIME_PATTERN, "must be a MIME type such as image/png, or a family such as image/*")),
    )
    .min(1, "must name at least one type")
    .max(50, "at most 50 types"),
});

export const MetadataCondition = z
  .strictObject({
    kind: z.literal("metadata"),
    key: MetadataKey,
    op: z.enum(["equals", "notEquals", "exists", "absent"], { message: "must be equals, notEquals, exists or absent" }),
    value: safeText(512).optional(),
  })
  .refine((c) => (c.op === "equals" || c.op === "notEquals") === (c.value !== undefined), "value goes with equals and notEquals, and only with them");

const PATH_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;
export const AppdataCondition = z
  .strictObject({
    kind: z.literal("appdata"),
    /** Dot-separated path inside appdata, e.g. `uc_clamav_virus_scan.data.infected`. */
    path: z
      .string()
      .refine((p) => {
        const parts = p.split(".");
        return parts.length >= 1 && parts.length <= 8 && parts.every((s) => PATH_SEGMENT.test(s));
      }, "must be 1-8 dot-separated names of letters, digits, '_' or '-'"),
    op: z.enum(["equals", "exists", "absent"], { message: "must be equals, exists or absent" }),
    value: z.union([safeText(512, 0), z.number(), z.boolean(), z.null()]).optional(),
  })
  .refine((c) => (c.op === "equals") === (c.value !== undefined), "value goes with equals, and only with it");

export const FilenameCondition = z.strictObject({
  kind: z.literal("filename"),
  /** A glob over the whole original filename: `*` any run of characters, `?` one character. */
  pattern: safeText(255),
  caseSensitive: z.boolean().optional(),
});

const DAYS_MAX = 36_500;
const days = (min: number) =>
  z.number({ message: "must be a number of days" }).min(min, `must be at least ${min}`).max(DAYS_MAX, `must be at most ${DAYS_MAX}`);

/** Files recently uploaded are never orphans by default: the form that will reference them may not be submitted yet. */
export const DEFAULT_GRACE_DAYS = 7;

export const UnreferencedCondition = z.strictObject({
  kind: z.literal("unreferenced"),
  /** Nothing has referenced the file for at least this long (docs/references.md says how that is counted). */
  forAtLeastDays: days(0),
  /** Files uploaded less than this long ago never match, referenced or not (default 7). */
  graceDays: days(0).optional(),
});

/** Named files: a plan for one file (or a few) acted on from its page. */
export const UuidCondition = z.strictObject({
  kind: z.literal("uuid"),
  in: z
    .array(z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "must be file UUIDs"))
    .min(1, "must name at least one file")
    .max(1000, "must name at most 1,000 files"),
});

export const Condition = z.discriminatedUnion("kind", [
  StateCondition,
  AgeCondition,
  SizeCondition,
  MimeCondition,
  MetadataCondition,
  AppdataCondition,
  FilenameCondition,
  UnreferencedCondition,
  UuidCondition,
]);
export type Condition = z.infer<typeof Condition>;
export type ConditionKindName = Condition["kind"];

const at = (now: Date, hoursBefore: number) => sql`${new Date(now.getTime() - hoursBefore * 3_600_000).toISOString()}::timestamptz`;

/** A glob as a LIKE pattern (backslash escapes): `*` → `%`, `?` → `_`, literal `%`, `_` and `\` escaped. */
export function globToLike(glob: string): string {
  return glob.replace(/[\\%_*?]/g, (c) => (c === "*" ? "%" : c === "?" ? "_" : `\\${c}`));
}

function appdataPath(path: string): SQL {
  return sql`${sql.param(path.split("."))}::text[]`;
}

export const CONDITION_KINDS: { [K in ConditionKindName]: ConditionKind<Extract<Condition, { kind: K }>> } = {
  state: {
    where: (c) => statePredicate(c.in),
    evidence: () => ({ state: STATE_SQL }),
    restricts: (c) => new Set(c.in).size < FILE_STATES.length,
    describe: (c) => `state is ${[...new Set(c.in)].join(" or ")}`,
  },
  age: {
    where: (c, ctx) => {
      const parts: SQL[] = [];
      if (c.olderThanHours !== undefined) parts.push(sql`f.datetime_uploaded <= ${at(ctx.now, c.olderThanHours)}`);
      if (c.newerThanHours !== undefined) parts.push(sql`f.datetime_uploaded > ${at(ctx.now, c.newerThanHours)}`);
      return sql.join(parts, sql` and `);
    },
    evidence: () => ({ datetime_uploaded: fileColumn("datetime_uploaded") }),
    restricts: () => true,
    describe: (c) =>
      [c.olderThanHours !== undefined ? `uploaded at least ${c.olderThanHours} h ago` : null, c.newerThanHours !== undefined ? `uploaded less than ${c.newerThanHours} h ago` : null]
        .filter(Boolean)
        .join(" and "),
  },
  size: {
    where: (c) => {
      const parts: SQL[] = [];
      if (c.minBytes !== undefined) parts.push(sql`f.size >= ${c.minBytes}`);
      if (c.maxBytes !== undefined) parts.push(sql`f.size <= ${c.maxBytes}`);
      return sql.join(parts, sql` and `);
    },
    evidence: () => ({ size: fileColumn("size") }),
    restricts: (c) => (c.minBytes ?? 0) > 0 || c.maxBytes !== undefined,
    describe: (c) =>
      [c.minBytes !== undefined ? `at least ${c.minBytes} bytes` : null, c.maxBytes !== undefined ? `at most ${c.maxBytes} bytes` : null].filter(Boolean).join(" and "),
  },
  mime: {
    where: (c) => {
      const parts = [...new Set(c.types)].map((t) =>
        t.endsWith("/") || t.endsWith("/*") ? sql`lower(f.mime_type) like ${`${t.replace(/\*$/, "").replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`}` : sql`lower(f.mime_type) = ${t}`,
      );
      return parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` or `)})`;
    },
    evidence: () => ({ mime_type: fileColumn("mime_type") }),
    restricts: () => true,
    describe: (c) => `MIME type is ${c.types.join(" or ")}`,
  },
  metadata: {
    where: (c) => {
      const value = sql`(f.metadata ->> ${c.key})`;
      switch (c.op) {
        case "equals":
          return sql`${value} = ${c.value!}`;
        case "notEquals":
          return sql`${value} is distinct from ${c.value!}`;
        case "exists":
          return sql`${value} is not null`;
        case "absent":
          return sql`${value} is null`;
      }
    },
    evidence: (c) => ({ [`metadata.${c.key}`]: sql`(f.metadata -> ${c.key})` }),
    restricts: () => true,
    describe: (c) =>
      c.op === "equals"
        ? `metadata ${c.key} = ${JSON.stringify(c.value)}`
        : c.op === "notEquals"
          ? `metadata ${c.key} is not ${JSON.stringify(c.value)}`
          : `metadata ${c.key} ${c.op === "exists" ? "is set" : "is not set"}`,
  },
  appdata: {
    where: (c) => {
      const value = sql`(f.appdata #> ${appdataPath(c.path)})`;
      if (c.op === "exists") return sql`${value} is not null`;
      if (c.op === "absent") return sql`${value} is null`;
      return sql`${value} = ${JSON.stringify(c.value)}::jsonb`;
    },
    evidence: (c) => ({ [`appdata.${c.path}`]: sql`(f.appdata #> ${appdataPath(c.path)})` }),
    restricts: () => true,
    describe: (c) => (c.op === "equals" ? `appdata ${c.path} = ${JSON.stringify(c.value)}` : `appdata ${c.path} ${c.op === "exists" ? "is set" : "is not set"}`),
  },
  unreferenced: {
    // The status is read as of `checkedAt` (apply: now); the N days and the grace count back from the proposal.
    where: (c, ctx) => {
      const checked = sql`${(ctx.checkedAt ?? ctx.now).toISOString()}::timestamptz`;
      return sql`f.datetime_uploaded <= ${at(ctx.now, (c.graceDays ?? DEFAULT_GRACE_DAYS) * 24)}
        and exists (select 1 from (${fileReferenceStatus("f", checked)}) st
          where st.is_referenced = false and st.unreferenced_since <= ${at(ctx.now, c.forAtLeastDays * 24)})`;
    },
    evidence: (_c, ctx) => {
      const status = fileReferenceStatus("f", sql`${(ctx.checkedAt ?? ctx.now).toISOString()}::timestamptz`);
      return {
        "references.referenced": sql`(select st.is_referenced from (${status}) st)`,
        "references.unreferenced_since": sql`(select st.unreferenced_since from (${status}) st)`,
      };
    },
    restricts: () => true,
    describe: (c) => `not referenced by any reference source for at least ${c.forAtLeastDays} days (and uploaded at least ${c.graceDays ?? DEFAULT_GRACE_DAYS} days ago)`,
  },
  uuid: {
    where: (c) => sql`f.uuid = any(${sql.param([...new Set(c.in.map((u) => u.toLowerCase()))])}::uuid[])`,
    evidence: () => ({ uuid: sql`f.uuid::text` }),
    restricts: () => true,
    describe: (c) => (c.in.length === 1 ? `the file ${c.in[0]!.toLowerCase()}` : `one of ${c.in.length} named files`),
  },
  filename: {
    where: (c) => sql`f.original_filename ${sql.raw(c.caseSensitive ? "like" : "ilike")} ${globToLike(c.pattern)}`,
    evidence: () => ({ original_filename: fileColumn("original_filename") }),
    restricts: (c) => !/^\*+$/.test(c.pattern),
    describe: (c) => `original filename matches ${JSON.stringify(c.pattern)}${c.caseSensitive ? " (case-sensitive)" : ""}`,
  },
};

function kindOf<C extends Condition>(condition: C): ConditionKind<C> {
  return CONDITION_KINDS[condition.kind] as unknown as ConditionKind<C>;
}

export interface CompiledConditions {
  /** True for matching files; `true` when there are no conditions. */
  where: SQL;
  /** A jsonb object of every value the conditions looked at. */
  evidence: SQL;
}

/** Conditions (all must hold) to SQL over the alias `f`. Pure: the same input gives the same SQL and parameters. */
export function compileConditions(conditions: readonly Condition[], ctx: CompileContext): CompiledConditions {
  const where = conditions.map((c) => sql`(${kindOf(c).where(c, ctx)})`);
  const evidence = new Map<string, SQL>();
  for (const c of conditions) for (const [key, value] of Object.entries(kindOf(c).evidence(c, ctx))) evidence.set(key, value);
  const pairs = [...evidence].map(([key, value]) => sql`${key}::text, ${value}`);
  return {
    where: where.length === 0 ? sql`true` : sql.join(where, sql` and `),
    evidence: pairs.length === 0 ? sql`'{}'::jsonb` : sql`jsonb_build_object(${sql.join(pairs, sql`, `)})`,
  };
}

/** True when at least one condition narrows the files (so the policy cannot match every file by construction). */
export function restrictsFiles(conditions: readonly Condition[]): boolean {
  return conditions.some((c) => kindOf(c).restricts(c));
}

export function describeConditions(conditions: readonly Condition[]): string[] {
  return conditions.map((c) => kindOf(c).describe(c));
}
