import { createPrivateKey, createPublicKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { parsePricing, type Pricing } from "./pricing-schema.ts";
import { ConfigError } from "./errors.ts";
import { LOG_LEVELS } from "./logger.ts";
import { ConfigFile, ProjectConfig, ReferenceSourceConfig, httpUrl, mailbox, nonEmpty, port, postgresUrl, wholeNumber } from "./config-schema.ts";
export { ProjectConfig, ReferenceSourceConfig, SOURCE_NAME } from "./config-schema.ts";

/**
 * All configuration, read from the environment once by the entry points
 * (`src/index.ts`, `src/cli/*`) and handed down as arguments. Nothing below
 * reads `process.env`.
 */

const DEFAULT_API_BASE = "https://api.uploadcare.com/";

/** Defaults of a reference source's settings. */
export const REFERENCE_DEFAULTS = { staleAfterHours: 48, pullSchedule: "0 * * * *", statementTimeoutMs: 60_000, maxDropShare: 0.1 } as const;

/** A configured reference source with its project resolved and defaults filled in. */
export interface ReferenceSourceSettings {
  name: string;
  projectKey: string;
  staleAfterHours: number;
  /** Present for pull sources. */
  pull: { url: string; query: string; schedule: string; statementTimeoutMs: number } | undefined;
}

export interface ReferenceSettings {
  /** A replacement that drops more than this share of a source's references is refused unless forced. */
  maxDropShare: number;
  /** Custom CDN domains (host, or host/path-prefix), lower case, besides Uploadcare's own. */
  cdnDomains: string[];
  sources: ReferenceSourceSettings[];
}

/** Audit anchor keys are checked here so a bad one stops start-up; src/db/audit/anchor-key.ts uses them. */
function isEd25519Key(text: string, kind: "private" | "public"): boolean {
  const trimmed = text.trim();
  try {
    const pem = trimmed.startsWith("-----BEGIN");
    if (!pem && !/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) return false;
    const der = Buffer.from(trimmed, "base64");
    const key =
      kind === "private"
        ? createPrivateKey(pem ? trimmed : { key: der, format: "der", type: "pkcs8" })
        : createPublicKey(pem ? trimmed : { key: der, format: "der", type: "spki" });
    return key.asymmetricKeyType === "ed25519";
  } catch {
    return false;
  }
}

/**
 * What keeps files from deletes and archives, for the whole deployment
 * (docs/decisions.md). A plan's options may only tighten these: add hold keys,
 * widen the recent-upload window, halt sooner.
 */
export interface ProtectionSettings {
  /** A file whose metadata has this key with `holdValue` (any case) is never deleted or archived. */
  holdKey: string;
  holdValue: string;
  /** Files uploaded less than this many hours before a check are never deleted or archived. */
  recentUploadHours: number;
  /** An apply halts once failed / attempted exceeds this, after at least `haltMinAttempted` attempts. */
  haltFailureRate: number;
  haltMinAttempted: number;
}

export const PROTECTION_DEFAULTS: ProtectionSettings = { holdKey: "ucledger_hold", holdValue: "true", recentUploadHours: 1, haltFailureRate: 0.1, haltMinAttempted: 20 };

const EnvSchema = z.object({
  DATABASE_URL: postgresUrl.optional(),
  // Roles and least privilege (docs/security.md, docs/analysts.md): the owner's URL for migrations, the analysts' role of this database.
  UCLEDGER_MIGRATE_DATABASE_URL: postgresUrl.optional(),
  UCLEDGER_ANALYST_ROLE: z
    .string()
    .trim()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a role name: lower-case letters, digits and _, starting with a letter or _, at most 63")
    .refine((name) => !name.startsWith("pg_") && name !== "ucledger_analyst", "must not be pg_… or the shared ucledger_analyst")
    .optional(),
  UCLEDGER_DATA_DIR: nonEmpty.default("./.ucledger"),
  PORT: port.default(3000),
  UPLOADCARE_PUBLIC_KEY: nonEmpty.optional(),
  UPLOADCARE_SECRET_KEY: nonEmpty.optional(),
  UPLOADCARE_API_BASE: httpUrl.default(DEFAULT_API_BASE),
  UPLOADCARE_PROJECT_API_TOKEN: nonEmpty.optional(),
  UPLOADCARE_WEBHOOK_SECRET: nonEmpty.optional(),
  UCLEDGER_CONFIG: nonEmpty.optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  UCLEDGER_SCHEDULER: z.enum(["on", "off"], { message: "must be on or off" }).default("on"),
  UCLEDGER_SCHEDULE_FILES_NEW: nonEmpty.default("*/5 * * * *"),
  UCLEDGER_SCHEDULE_WEBHOOKS: nonEmpty.default("* * * * *"),
  UCLEDGER_SCHEDULE_RECONCILE: nonEmpty.default("30 3 * * *"),
  UCLEDGER_SCHEDULE_USAGE: nonEmpty.default("0 2 * * *"),
  UCLEDGER_SCHEDULE_REPORT: nonEmpty.default("0 8 * * 1"),
  UCLEDGER_TIMEZONE: nonEmpty.default("UTC"),
  UCLEDGER_USAGE_BACKFILL_DAYS: wholeNumber(1, 3650).default(365),
  /** How far before its checkpoint the new-files lane reads again, for files listed late (long multipart uploads). */
  UCLEDGER_NEW_FILES_LOOKBACK_MINUTES: wholeNumber(0, 10_080).default(60),
  UCLEDGER_SYNC_CONCURRENCY: wholeNumber(1, 64).default(8),
  UCLEDGER_API_LOG_RETENTION_DAYS: wholeNumber(1, 36500).default(400),
  // Four eyes (src/decisions/review.ts): distinct approvers besides the proposer, within and above the size limits.
  UCLEDGER_APPROVALS_REQUIRED: wholeNumber(1, 10).default(1),
  UCLEDGER_APPROVALS_REQUIRED_LARGE: wholeNumber(1, 10).default(2),
  UCLEDGER_METRICS_PUBLIC: z.enum(["true", "false"], { message: "must be true or false" }).default("true"),
  /** Sessions and unauthenticated traffic: believe X-Forwarded-For (the last entry) for the client's address. */
  UCLEDGER_BEHIND_PROXY: z.enum(["true", "false"], { message: "must be true or false" }).default("false"),
  UCLEDGER_PUBLIC_URL: httpUrl.optional(),
  UCLEDGER_REFERENCE_MAX_DROP: z
    .string()
    .trim()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, "must be a share from 0 to 1, such as 0.1")
    .transform(Number)
    .default(REFERENCE_DEFAULTS.maxDropShare),
  // Protection of files from deletes and archives (docs/decisions.md): a plan may tighten these, never loosen them.
  UCLEDGER_HOLD_KEY: z.string().trim().regex(/^[\w\-.:]{1,64}$/, "must be a metadata key: 1-64 letters, digits, '_', '-', '.' or ':'").default(PROTECTION_DEFAULTS.holdKey),
  UCLEDGER_HOLD_VALUE: nonEmpty.max(512, "must be at most 512 characters").default(PROTECTION_DEFAULTS.holdValue),
  UCLEDGER_RECENT_UPLOAD_HOURS: z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, "must be a number of hours from 0 to 8760")
    .transform(Number)
    .refine((n) => n <= 24 * 365, "must be a number of hours from 0 to 8760")
    .default(PROTECTION_DEFAULTS.recentUploadHours),
  UCLEDGER_HALT_FAILURE_RATE: z
    .string()
    .trim()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, "must be a share from 0 to 1, such as 0.1")
    .transform(Number)
    .default(PROTECTION_DEFAULTS.haltFailureRate),
  UCLEDGER_HALT_MIN_ATTEMPTED: wholeNumber(1, 1_000_000).default(PROTECTION_DEFAULTS.haltMinAttempted),
  // Audit anchors (docs/security.md, Anchors): the Ed25519 signing key, public keys verified against besides its own, the schedule.
  UCLEDGER_AUDIT_KEY: nonEmpty.refine((v) => isEd25519Key(v, "private"), "must be an Ed25519 private key (PEM, or base64 of PKCS#8 DER)").optional(),
  UCLEDGER_AUDIT_PUBLIC_KEY: nonEmpty
    .transform((v) => v.split(",").map((k) => k.trim()).filter(Boolean))
    .refine((keys) => keys.every((k) => isEd25519Key(k, "public")), "must be Ed25519 public keys (PEM, or base64 of SPKI DER), separated by commas")
    .optional(),
  UCLEDGER_SCHEDULE_ANCHORS: nonEmpty.default("*/15 * * * *"),
  SMTP_URL: z
    .string()
    .trim()
    .refine((value) => {
      try {
        return ["smtp:", "smtps:"].includes(new URL(value).protocol);
      } catch {
        return false;
      }
    }, "must be an smtp:// or smtps:// URL")
    .optional(),
  REPORT_FROM: mailbox.optional(),
  /** A token for the CLI to act through a running server (the server also keeps one in the data directory). */
  UCLEDGER_TOKEN: nonEmpty.optional(),
  REPORT_RECIPIENTS: z
    .string()
    .refine(
      (value) => value.split(",").every((address) => z.email().safeParse(address.trim()).success),
      "must be a comma-separated list of email addresses",
    )
    .transform((value) => value.split(",").map((address) => address.trim()))
    .optional(),
});

/** The schedules of the jobs `npm start` runs (cron expressions; the report's in `timezone`). */
export interface Schedules {
  enabled: boolean;
  filesNew: string;
  webhooks: string;
  reconcile: string;
  usage: string;
  report: string;
  /** IANA time zone of the weekly report (week boundaries and its schedule). */
  timezone: string;
}

export interface Env {
  databaseUrl: string | undefined;
  /** The schema owner's URL: migrations run over it when set, so DATABASE_URL may name a role that cannot change the schema. */
  migrateDatabaseUrl: string | undefined;
  /** The analysts' group role of this database; unset: derived from the database name (docs/analysts.md). */
  analystRole: string | undefined;
  dataDir: string;
  port: number;
  logLevel: (typeof LOG_LEVELS)[number];
  uploadcareApiBase: string;
  /** Every configured project; empty means demo mode against the built-in sandbox. */
  projects: ProjectConfig[];
  schedules: Schedules;
  usageBackfillDays: number;
  newFilesLookbackMinutes: number;
  /** Most list requests a first sync (backfill) keeps in flight; halved on each 429. */
  syncConcurrency: number;
  /** The Uploadcare plan of the configuration file's `pricing` block (docs/costs.md); undefined without one. */
  pricing: Pricing | undefined;
  apiLogRetentionDays: number;
  /** Whether `/metrics` answers without a token. */
  metricsPublic: boolean;
  /** Whether a reverse proxy in front sets X-Forwarded-For (UCLEDGER_BEHIND_PROXY). */
  behindProxy: boolean;
  /** Where people reach this deployment (links in emails); defaults to http://localhost:PORT. */
  publicUrl: string;
  /** Weekly report email; unset SMTP_URL means reports are kept but not mailed. */
  mail: { smtpUrl: string | undefined; from: string | undefined; recipients: string[] };
  /** Reference sources and how their values are read (docs/references.md). */
  references: ReferenceSettings;
  /** Hold key and value, recent-upload window and halting limits of plans (docs/decisions.md). */
  protection: ProtectionSettings;
  /** Four eyes: distinct approvers a plan needs besides its proposer, within and above the size limits (ApprovalSettings). */
  approvals: { required: number; requiredLarge: number };
  /** Audit anchors: the signing key (PEM or base64, a secret), extra public keys, and when anchors are taken. */
  audit: { privateKey: string | undefined; publicKeys: string[]; anchorSchedule: string };
  /** UCLEDGER_TOKEN: the token the CLI uses when it works through a running server (a secret). */
  cliToken: string | undefined;
}

/** Names the first problem as `VARIABLE: what is wrong`, never echoing the value. */
function describeIssue(issue: z.core.$ZodIssue, prefix = ""): string {
  const path = issue.path.map(String).join(".");
  return `${prefix}${path}${path ? ": " : ""}${issue.message}`;
}

/** Treats empty strings as unset, as shells and .env files often leave them. */
function withoutEmpty(source: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(source)) if (value !== undefined && value !== "") out[key] = value;
  return out;
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    throw new ConfigError(`UCLEDGER_CONFIG: cannot read ${path} (${code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(`UCLEDGER_CONFIG: ${path} is not valid JSON`);
  }
  const parsed = ConfigFile.safeParse(json);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0]!, `UCLEDGER_CONFIG ${path}: `));
  return parsed.data;
}

/** Resolves each source's project and fills in defaults; names are unique per project. */
function referenceSourcesFrom(declared: ReferenceSourceConfig[], projects: ProjectConfig[]): ReferenceSourceSettings[] {
  const keys = projects.map((p) => p.publicKey);
  const seen = new Set<string>();
  return declared.map((s, i) => {
    const where = `UCLEDGER_CONFIG: referenceSources.${i}`;
    const projectKey = s.project ?? (keys.length === 1 ? keys[0] : undefined);
    if (!projectKey) throw new ConfigError(`${where}.project: required when several projects are configured`);
    if (!keys.includes(projectKey)) throw new ConfigError(`${where}.project: ${projectKey} is not a configured project`);
    if (seen.has(`${projectKey}/${s.name}`)) throw new ConfigError(`${where}.name: source ${s.name} is listed twice for project ${projectKey}`);
    seen.add(`${projectKey}/${s.name}`);
    return {
      name: s.name,
      projectKey,
      staleAfterHours: s.staleAfterHours ?? REFERENCE_DEFAULTS.staleAfterHours,
      pull:
        s.url !== undefined && s.query !== undefined
          ? {
              url: s.url,
              query: s.query,
              schedule: s.schedule ?? REFERENCE_DEFAULTS.pullSchedule,
              statementTimeoutMs: s.statementTimeoutMs ?? REFERENCE_DEFAULTS.statementTimeoutMs,
            }
          : undefined,
    };
  });
}

/** Parses configuration from an environment-like object; throws ConfigError on the first problem. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const parsed = EnvSchema.safeParse(withoutEmpty(source));
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0]!));
  const raw = parsed.data;

  if (Boolean(raw.UPLOADCARE_PUBLIC_KEY) !== Boolean(raw.UPLOADCARE_SECRET_KEY)) {
    const missing = raw.UPLOADCARE_PUBLIC_KEY ? "UPLOADCARE_SECRET_KEY" : "UPLOADCARE_PUBLIC_KEY";
    throw new ConfigError(`${missing}: must be set together with ${missing === "UPLOADCARE_SECRET_KEY" ? "UPLOADCARE_PUBLIC_KEY" : "UPLOADCARE_SECRET_KEY"}`);
  }

  if (raw.UCLEDGER_MIGRATE_DATABASE_URL && !raw.DATABASE_URL) {
    throw new ConfigError("UCLEDGER_MIGRATE_DATABASE_URL: must be set together with DATABASE_URL (the embedded database has a single user)");
  }

  if (raw.SMTP_URL && (!raw.REPORT_FROM || !raw.REPORT_RECIPIENTS?.length)) {
    throw new ConfigError(`${raw.REPORT_FROM ? "REPORT_RECIPIENTS" : "REPORT_FROM"}: must be set when SMTP_URL is set`);
  }
  if (raw.UCLEDGER_APPROVALS_REQUIRED_LARGE < raw.UCLEDGER_APPROVALS_REQUIRED) {
    throw new ConfigError("UCLEDGER_APPROVALS_REQUIRED_LARGE: must be at least UCLEDGER_APPROVALS_REQUIRED (a large plan never needs fewer approvers)");
  }
  const file = raw.UCLEDGER_CONFIG ? readConfigFile(raw.UCLEDGER_CONFIG) : undefined;
  const projects: ProjectConfig[] = file ? file.projects : [];
  if (raw.UPLOADCARE_PUBLIC_KEY && raw.UPLOADCARE_SECRET_KEY) {
    const fromEnv = ProjectConfig.safeParse({
      publicKey: raw.UPLOADCARE_PUBLIC_KEY,
      secretKey: raw.UPLOADCARE_SECRET_KEY,
      projectApiToken: raw.UPLOADCARE_PROJECT_API_TOKEN,
      webhookSecret: raw.UPLOADCARE_WEBHOOK_SECRET,
    });
    if (!fromEnv.success) throw new ConfigError(describeIssue(fromEnv.error.issues[0]!, "UPLOADCARE_"));
    if (projects.some((p) => p.publicKey === fromEnv.data.publicKey)) {
      throw new ConfigError(`UPLOADCARE_PUBLIC_KEY: project ${fromEnv.data.publicKey} is also listed in UCLEDGER_CONFIG`);
    }
    projects.push(fromEnv.data);
  }
  const seen = new Set<string>();
  for (const project of projects) {
    if (seen.has(project.publicKey)) throw new ConfigError(`UCLEDGER_CONFIG: project ${project.publicKey} is listed twice`);
    seen.add(project.publicKey);
  }

  return {
    databaseUrl: raw.DATABASE_URL,
    migrateDatabaseUrl: raw.UCLEDGER_MIGRATE_DATABASE_URL,
    analystRole: raw.UCLEDGER_ANALYST_ROLE,
    dataDir: raw.UCLEDGER_DATA_DIR,
    port: raw.PORT,
    logLevel: raw.LOG_LEVEL,
    uploadcareApiBase: raw.UPLOADCARE_API_BASE,
    projects,
    schedules: {
      enabled: raw.UCLEDGER_SCHEDULER === "on",
      filesNew: raw.UCLEDGER_SCHEDULE_FILES_NEW,
      webhooks: raw.UCLEDGER_SCHEDULE_WEBHOOKS,
      reconcile: raw.UCLEDGER_SCHEDULE_RECONCILE,
      usage: raw.UCLEDGER_SCHEDULE_USAGE,
      report: raw.UCLEDGER_SCHEDULE_REPORT,
      timezone: raw.UCLEDGER_TIMEZONE,
    },
    usageBackfillDays: raw.UCLEDGER_USAGE_BACKFILL_DAYS,
    newFilesLookbackMinutes: raw.UCLEDGER_NEW_FILES_LOOKBACK_MINUTES,
    syncConcurrency: raw.UCLEDGER_SYNC_CONCURRENCY,
    pricing: parsePricing(file?.pricing, projects.map((p) => p.publicKey)),
    apiLogRetentionDays: raw.UCLEDGER_API_LOG_RETENTION_DAYS,
    metricsPublic: raw.UCLEDGER_METRICS_PUBLIC === "true",
    behindProxy: raw.UCLEDGER_BEHIND_PROXY === "true",
    publicUrl: (raw.UCLEDGER_PUBLIC_URL ?? `http://localhost:${raw.PORT}`).replace(/\/+$/, ""),
    mail: { smtpUrl: raw.SMTP_URL, from: raw.REPORT_FROM, recipients: raw.REPORT_RECIPIENTS ?? [] },
    references: {
      maxDropShare: raw.UCLEDGER_REFERENCE_MAX_DROP,
      cdnDomains: [...new Set(file?.cdnDomains ?? [])],
      sources: referenceSourcesFrom(file?.referenceSources ?? [], projects),
    },
    protection: {
      holdKey: raw.UCLEDGER_HOLD_KEY,
      holdValue: raw.UCLEDGER_HOLD_VALUE,
      recentUploadHours: raw.UCLEDGER_RECENT_UPLOAD_HOURS,
      haltFailureRate: raw.UCLEDGER_HALT_FAILURE_RATE,
      haltMinAttempted: raw.UCLEDGER_HALT_MIN_ATTEMPTED,
    },
    approvals: { required: raw.UCLEDGER_APPROVALS_REQUIRED, requiredLarge: raw.UCLEDGER_APPROVALS_REQUIRED_LARGE },
    audit: { privateKey: raw.UCLEDGER_AUDIT_KEY, publicKeys: raw.UCLEDGER_AUDIT_PUBLIC_KEY ?? [], anchorSchedule: raw.UCLEDGER_SCHEDULE_ANCHORS },
    cliToken: raw.UCLEDGER_TOKEN,
  };
}

/** The API base a project talks to: its own override, else the deployment's. */
export function apiBaseFor(project: ProjectConfig, env: Pick<Env, "uploadcareApiBase">): string {
  return project.apiBase ?? env.uploadcareApiBase;
}

/** Reads `process.env` once. The only place in `src/` outside `cli/` that touches it. */
export function loadEnv(): Env {
  return parseEnv(process.env);
}
