import { z } from "zod";

/**
 * The shapes of configuration values — URLs, whole numbers, ports, projects,
 * reference sources, the UCLEDGER_CONFIG file — that src/env.ts reads the
 * environment and the config file with.
 */

export const nonEmpty = z.string().trim().min(1, "must not be empty");

export const postgresUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "postgres:" || url.protocol === "postgresql:") && url.hostname !== "";
    } catch {
      return false;
    }
  }, "must be a postgres:// or postgresql:// URL with a host");

export const httpUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === "http:" || url.protocol === "https:";
    } catch {
      return false;
    }
  }, "must be an http:// or https:// URL");

export function wholeNumber(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `must be a whole number from ${min} to ${max}`);
}

export const port = z
  .string()
  .trim()
  .regex(/^\d+$/, "must be a whole number from 0 to 65535")
  .transform(Number)
  .refine((n) => n <= 65535, "must be a whole number from 0 to 65535");

/** One Uploadcare project ucledger keeps a ledger of. */
export const ProjectConfig = z.object({
  publicKey: nonEmpty.regex(/^[A-Za-z0-9_-]+$/, "must be an Uploadcare public key (letters, digits, _ and -)"),
  secretKey: nonEmpty,
  name: nonEmpty.optional(),
  apiBase: httpUrl.optional(),
  projectApiToken: nonEmpty.optional(),
  webhookSecret: nonEmpty.optional(),
});
export type ProjectConfig = z.infer<typeof ProjectConfig>;

/** A reference source's name: `app-db`, `cms` (it appears in URLs and in job names). */
export const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * A reference source declared in the configuration: a pull source (with `url`
 * and `query`) or a push source whose expected interval is not the default.
 */
export const ReferenceSourceConfig = z
  .object({
    name: z.string().regex(SOURCE_NAME, "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"),
    /** The project the source's references belong to; optional with one project. */
    project: nonEmpty.optional(),
    /** The application's PostgreSQL (a secret: never logged or echoed). */
    url: postgresUrl.optional(),
    /** Returns a `ref` and a `value` column; runs in a READ ONLY transaction. */
    query: nonEmpty.max(100_000, "must be at most 100000 characters").optional(),
    /** Cron (UTC) of the pull; default hourly. */
    schedule: nonEmpty.optional(),
    /** Not reported for longer than this: stale. */
    staleAfterHours: z.number().int("must be a whole number of hours").min(1, "must be at least 1").max(24 * 365, "must be at most 8760").optional(),
    statementTimeoutMs: z.number().int("must be a whole number of milliseconds").min(100, "must be at least 100").max(3_600_000, "must be at most 3600000").optional(),
  })
  .strict()
  .refine((s) => (s.url === undefined) === (s.query === undefined), "url and query go together (a pull source needs both)")
  .refine((s) => s.url !== undefined || (s.schedule === undefined && s.statementTimeoutMs === undefined), "schedule and statementTimeoutMs are for pull sources (with url and query)");
export type ReferenceSourceConfig = z.infer<typeof ReferenceSourceConfig>;

/** A custom CDN domain whose URLs name files like ucarecdn.com's: `cdn.example.com` or `example.com/media`. */
export const CdnDomain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+(:\d{1,5})?(\/[^\s?#]*)?$/, "must be a host name, optionally with a path prefix (cdn.example.com or example.com/media)")
  .transform((d) => d.replace(/\/+$/, ""));

export const ConfigFile = z
  .object({
    projects: z.array(ProjectConfig).min(1, "must list at least one project"),
    referenceSources: z.array(ReferenceSourceConfig).max(100, "at most 100 sources").optional(),
    cdnDomains: z.array(CdnDomain).max(100, "at most 100 domains").optional(),
    // Checked by parsePricing (src/pricing-schema.ts), which needs the projects to check against.
    pricing: z.unknown().optional(),
  })
  .strict();
export type ConfigFile = z.infer<typeof ConfigFile>;


/** `Name <address>` (the display name optionally quoted), or a bare address: how mail clients write a sender. */
const MAILBOX = /^\s*(?:"([^"]*)"|([^"<>]*?))\s*<([^<>\s]+)>\s*$/;

/** The address of a mailbox as mail clients write it, or null when it is not one. */
export function mailboxAddress(value: string): string | null {
  const m = MAILBOX.exec(value);
  const address = m ? (m[3] as string) : value.trim();
  return z.email().safeParse(address).success ? address : null;
}

/** A sender: `ledger@example.com` or `ucledger <ledger@example.com>`; kept as written (nodemailer takes both). */
export const mailbox = z
  .string()
  .trim()
  .refine((v) => mailboxAddress(v) !== null, "must be an email address, optionally with a display name: ledger@example.com or ucledger <ledger@example.com>");
