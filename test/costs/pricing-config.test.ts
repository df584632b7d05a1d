import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.ts";
import { ACCOUNT_SCOPE, parsePricing } from "../../src/pricing-schema.ts";
import { billingPeriodOf } from "../../src/reports/costs/billing-period.ts";
import { gbOverageCents, operationsOverageCents } from "../../src/reports/costs/money.ts";
import { pricingBlock } from "./series.ts";

const KEYS = ["p1", "p2"];

function errorOf(value: unknown): string {
  try {
    parsePricing(value, KEYS);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("parsed");
}

describe("the pricing block", () => {
  it("keeps amounts as whole cents, millionths and bytes, with no binary fractions", () => {
    const pricing = parsePricing(pricingBlock("p2"), KEYS)!;
    expect(pricing).toEqual({
      currency: "EUR",
      billingDay: 31,
      scope: "project",
      plans: {
        p1: {
          monthlyFeeCents: 1000,
          includedStorageBytes: 2_000_000_000,
          includedTrafficBytes: 5_000_000_000,
          includedOperations: 1000,
          storageGbPriceMicros: 500_000,
          trafficGbPriceMicros: 123_400,
          thousandOperationsPriceMicros: 250_000,
        },
        p2: {
          monthlyFeeCents: 0,
          includedStorageBytes: 0,
          includedTrafficBytes: 1_000_000_000,
          includedOperations: 0,
          storageGbPriceMicros: 20_000,
          trafficGbPriceMicros: 50_000,
          thousandOperationsPriceMicros: 400_000,
        },
      },
    });
    expect(Object.keys(parsePricing(pricingBlock("p2", "account"), KEYS)!.plans)).toEqual([ACCOUNT_SCOPE]);
    expect(parsePricing(undefined, KEYS)).toBeUndefined();
  });

  it.each([
    [{ plan: { pricePerExtra: { trafficGb: -0.04 } } }, "UCLEDGER_CONFIG: pricing.plan.pricePerExtra.trafficGb: must not be negative (a price, such as 0.04)"],
    [{ plan: { monthlyFee: "-5" } }, "UCLEDGER_CONFIG: pricing.plan.monthlyFee: must not be negative (an amount of money, such as 79.00)"],
    [{ billingDay: 0 }, "UCLEDGER_CONFIG: pricing.billingDay: must be a day of the month from 1 to 31"],
    [{ billingDay: 32 }, "UCLEDGER_CONFIG: pricing.billingDay: must be a day of the month from 1 to 31 (a shorter month's period starts on its last day)"],
    [{ billingDay: 1.5 }, "UCLEDGER_CONFIG: pricing.billingDay: must be a whole day of the month from 1 to 31"],
    [{ currency: "usd" }, "UCLEDGER_CONFIG: pricing.currency: must be a three-letter ISO 4217 currency code in capitals, such as USD or EUR"],
    [{ currency: "EURO" }, "UCLEDGER_CONFIG: pricing.currency: must be a three-letter ISO 4217 currency code in capitals, such as USD or EUR"],
    [{ currency: "XYZ" }, "UCLEDGER_CONFIG: pricing.currency: is not an ISO 4217 currency code this Node.js knows"],
    [{ plan: { pricePerExtra: { storageGb: "0.0000001" } } }, "UCLEDGER_CONFIG: pricing.plan.pricePerExtra.storageGb: must be a price with at most 6 decimals, such as 0.04"],
    [{ plan: { included: { operations: 10.5 } } }, "UCLEDGER_CONFIG: pricing.plan.included.operations: must be a whole number of operations with at most 0 decimals, such as 1000000"],
    [{ scope: "team" }, "UCLEDGER_CONFIG: pricing.scope: must be account (one plan shared by every project) or project (a plan per project)"],
    [{ projects: { p9: null } }, "UCLEDGER_CONFIG: pricing.projects.p9: Invalid input: expected object, received null"],
  ])("refuses %j with a message naming the field", (change, message) => {
    const block = pricingBlock("p2") as Record<string, unknown>;
    const merged = { ...block, ...change, plan: { ...(block["plan"] as object), ...deepPlan(change) } };
    expect(errorOf(merged)).toBe(message);
  });

  it("refuses a per-project plan for a project that is not configured, and per-project plans with a shared plan", () => {
    const block = pricingBlock("p9");
    expect(errorOf(block)).toBe("UCLEDGER_CONFIG: pricing.projects.p9: p9 is not a configured project");
    expect(errorOf({ ...pricingBlock("p2"), scope: "account" })).toBe(
      "UCLEDGER_CONFIG: pricing.projects: per-project plans need scope project (with scope account one plan covers every project)",
    );
  });
});

/** The plan part of a change, merged field by field into the block's plan. */
function deepPlan(change: Record<string, unknown>): Record<string, unknown> {
  const base = pricingBlock("p2").plan as Record<string, Record<string, unknown> | unknown>;
  const plan = (change["plan"] ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(plan)) {
    out[key] = typeof value === "object" && value !== null ? { ...(base[key] as object), ...value } : value;
  }
  return out;
}

describe("billing periods", () => {
  it.each([
    ["2026-01-30", 31, "2025-12-31", "2026-01-30", 31],
    ["2026-01-31", 31, "2026-01-31", "2026-02-27", 28],
    ["2026-02-27", 31, "2026-01-31", "2026-02-27", 28],
    ["2026-02-28", 31, "2026-02-28", "2026-03-30", 31],
    ["2028-02-28", 30, "2028-01-30", "2028-02-28", 30],
    ["2028-02-29", 30, "2028-02-29", "2028-03-29", 30],
    ["2026-03-14", 15, "2026-02-15", "2026-03-14", 28],
    ["2026-03-15", 15, "2026-03-15", "2026-04-14", 31],
    ["2026-12-31", 1, "2026-12-01", "2026-12-31", 31],
  ])("%s with billing day %i is in %s to %s (%i days)", (day, billingDay, start, end, days) => {
    expect(billingPeriodOf(day, billingDay)).toEqual({ start, end, days });
  });
});

describe("money", () => {
  it("rounds each overage half up to the cent, exactly", () => {
    // 0.09 GB at 0.50 = 0.045 → 0.05; 0.59 GB at 0.50 = 0.295 → 0.30; 1.4 GB at 0.1234 = 0.17276 → 0.17.
    expect(gbOverageCents(90_000_000, 500_000)).toBe(5);
    expect(gbOverageCents(590_000_000, 500_000)).toBe(30);
    expect(gbOverageCents(1_400_000_000, 123_400)).toBe(17);
    expect(gbOverageCents(-5, 123_400)).toBe(0);
    // 120 operations at 0.25 per 1,000 = 0.03; 1,170 at 0.25 = 0.2925 → 0.29.
    expect(operationsOverageCents(120, 250_000)).toBe(3);
    expect(operationsOverageCents(1170, 250_000)).toBe(29);
    // A petabyte over at 0.123456 per GB: 123,456.00, beyond float's exact cents for the product.
    expect(gbOverageCents(1_000_000_000_000_000, 123_456)).toBe(12_345_600);
  });
});
