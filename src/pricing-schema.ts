import { z } from "zod";
import { ConfigError } from "./errors.ts";

/**
 * The `pricing` block of the UCLEDGER_CONFIG file: the deployment's own
 * Uploadcare plan (docs/costs.md). ucledger knows no prices of its own; every
 * figure comes from here. Amounts are decimals written as JSON numbers or
 * strings and are kept as integers (cents, millionths, bytes) from the start,
 * so no cost is ever a binary fraction.
 */

const CURRENCIES = new Set(Intl.supportedValuesOf("currency"));

/** A decimal as written: a JSON number or string, never negative, at most `decimals` places. */
function decimal(what: string, decimals: number, example: string) {
  return z
    .union([z.number(), z.string()], { message: `must be ${what}, such as ${example}` })
    .transform((value, ctx) => {
      const text = typeof value === "number" ? String(value) : value.trim();
      if (/^-/.test(text)) {
        ctx.addIssue({ code: "custom", message: `must not be negative (${what}, such as ${example})` });
        return z.NEVER;
      }
      const match = /^(\d+)(?:\.(\d+))?$/.exec(text);
      if (!match || (match[2] ?? "").length > decimals) {
        ctx.addIssue({ code: "custom", message: `must be ${what} with at most ${decimals} decimals, such as ${example}` });
        return z.NEVER;
      }
      // Scaled to a whole number of 10^-decimals units, exactly.
      const scaled = BigInt(match[1]!) * 10n ** BigInt(decimals) + BigInt((match[2] ?? "").padEnd(decimals, "0") || "0");
      if (scaled > BigInt(Number.MAX_SAFE_INTEGER)) {
        ctx.addIssue({ code: "custom", message: `is too large (${what})` });
        return z.NEVER;
      }
      return Number(scaled);
    });
}

/** Money in the plan's currency, kept in cents. */
const cents = decimal("an amount of money", 2, "79.00");
/** A price per unit, kept in millionths of the currency (0.000001). */
const micros = decimal("a price", 6, "0.04");
/** Decimal gigabytes (1 GB = 1,000,000,000 bytes), kept in bytes. */
const gigabytes = decimal("a number of gigabytes", 9, "100");
const operations = decimal("a whole number of operations", 0, "1000000");

const PlanConfig = z
  .object({
    monthlyFee: cents,
    included: z.object({ storageGb: gigabytes, trafficGb: gigabytes, operations }).strict(),
    pricePerExtra: z.object({ storageGb: micros, trafficGb: micros, thousandOperations: micros }).strict(),
  })
  .strict();

/** The `pricing` block exactly as the configuration file holds it. */
export const PricingConfig = z
  .object({
    currency: z
      .string({ message: "must be a three-letter ISO 4217 currency code such as USD or EUR" })
      .regex(/^[A-Z]{3}$/, "must be a three-letter ISO 4217 currency code in capitals, such as USD or EUR")
      .refine((code) => CURRENCIES.has(code), "is not an ISO 4217 currency code this Node.js knows"),
    billingDay: z
      .number({ message: "must be a day of the month from 1 to 31" })
      .int("must be a whole day of the month from 1 to 31")
      .min(1, "must be a day of the month from 1 to 31")
      .max(31, "must be a day of the month from 1 to 31 (a shorter month's period starts on its last day)"),
    /** `account`: one plan for all projects together; `project`: each project has a plan of its own. */
    scope: z.enum(["account", "project"], { message: "must be account (one plan shared by every project) or project (a plan per project)" }),
    plan: PlanConfig,
    /** Scope `project` only: projects whose plan differs from `plan`, by public key. */
    projects: z.record(z.string(), PlanConfig).optional(),
  })
  .strict()
  .refine((p) => p.scope === "project" || p.projects === undefined, {
    message: "per-project plans need scope project (with scope account one plan covers every project)",
    path: ["projects"],
  });
export type PricingConfig = z.infer<typeof PricingConfig>;

/** One plan, in whole units: cents, millionths of the currency, bytes and operations. */
export interface Plan {
  monthlyFeeCents: number;
  includedStorageBytes: number;
  includedTrafficBytes: number;
  includedOperations: number;
  storageGbPriceMicros: number;
  trafficGbPriceMicros: number;
  thousandOperationsPriceMicros: number;
}

/** The pricing as the cost model uses it: currency, billing day, and the plan of each billing scope. */
export interface Pricing {
  currency: string;
  billingDay: number;
  /** `account`: one plan under ACCOUNT_SCOPE; `project`: a plan under each configured project's key. */
  scope: "account" | "project";
  plans: Record<string, Plan>;
}

/** The key of the account-wide plan among `Pricing.plans` (and in `pricing_plans`): no project key is `*`. */
export const ACCOUNT_SCOPE = "*";

function planFrom(config: z.infer<typeof PlanConfig>): Plan {
  return {
    monthlyFeeCents: config.monthlyFee,
    includedStorageBytes: config.included.storageGb,
    includedTrafficBytes: config.included.trafficGb,
    includedOperations: config.included.operations,
    storageGbPriceMicros: config.pricePerExtra.storageGb,
    trafficGbPriceMicros: config.pricePerExtra.trafficGb,
    thousandOperationsPriceMicros: config.pricePerExtra.thousandOperations,
  };
}

/** `pricing.plan.pricePerExtra.trafficGb: must not be negative …`, in the file's own terms. */
export function describePricingIssue(issue: z.core.$ZodIssue): string {
  const path = ["pricing", ...issue.path.map(String)].join(".");
  return `${path}: ${issue.message}`;
}

/**
 * Checks a configuration file's `pricing` value and resolves it against the
 * configured projects. Undefined (no block) gives undefined: usage without money.
 * Throws ConfigError naming the field and what is wrong.
 */
export function parsePricing(value: unknown, projectKeys: string[], where = "UCLEDGER_CONFIG"): Pricing | undefined {
  if (value === undefined) return undefined;
  const parsed = PricingConfig.safeParse(value);
  if (!parsed.success) throw new ConfigError(`${where}: ${describePricingIssue(parsed.error.issues[0]!)}`);
  const config = parsed.data;
  for (const key of Object.keys(config.projects ?? {})) {
    if (!projectKeys.includes(key)) throw new ConfigError(`${where}: pricing.projects.${key}: ${key} is not a configured project`);
  }
  const plans: Record<string, Plan> =
    config.scope === "account"
      ? { [ACCOUNT_SCOPE]: planFrom(config.plan) }
      : Object.fromEntries(projectKeys.map((key) => [key, planFrom(config.projects?.[key] ?? config.plan)]));
  return { currency: config.currency, billingDay: config.billingDay, scope: config.scope, plans };
}
