import type { Plan } from "../../pricing-schema.ts";

/**
 * Money in whole cents, computed with BigInt: prices are millionths of the
 * currency, usage whole bytes and operations, and each overage is rounded to
 * the cent once (half up). reporting.fct_cost_daily rounds the same way with
 * numeric `div`, so the two agree to the cent.
 */

const BYTES_PER_GB = 1_000_000_000n;
const MICROS_PER_CENT = 10_000n;

/** a / b rounded half up, for a ≥ 0 and b > 0. */
export function divideHalfUp(a: bigint, b: bigint): bigint {
  return (a + b / 2n) / b;
}

/** Cents for `over` bytes beyond the allowance at a price per GB. */
export function gbOverageCents(overBytes: number, gbPriceMicros: number): number {
  if (overBytes <= 0) return 0;
  return Number(divideHalfUp(BigInt(overBytes) * BigInt(gbPriceMicros), BYTES_PER_GB * MICROS_PER_CENT));
}

/** Cents for `over` operations beyond the allowance at a price per 1,000. */
export function operationsOverageCents(overOperations: number, thousandPriceMicros: number): number {
  if (overOperations <= 0) return 0;
  return Number(divideHalfUp(BigInt(overOperations) * BigInt(thousandPriceMicros), 1_000n * MICROS_PER_CENT));
}

export interface CostUsage {
  /** Bytes stored at the period's peak so far. */
  storageBytes: number;
  trafficBytes: number;
  operations: number;
}

export interface CostCents {
  fee: number;
  storage: number;
  traffic: number;
  operations: number;
  total: number;
}

/** What a plan costs for a period's usage: the fee plus each overage, in cents. */
export function planCostCents(plan: Plan, usage: CostUsage): CostCents {
  const storage = gbOverageCents(usage.storageBytes - plan.includedStorageBytes, plan.storageGbPriceMicros);
  const traffic = gbOverageCents(usage.trafficBytes - plan.includedTrafficBytes, plan.trafficGbPriceMicros);
  const operations = operationsOverageCents(usage.operations - plan.includedOperations, plan.thousandOperationsPriceMicros);
  const fee = plan.monthlyFeeCents;
  return { fee, storage, traffic, operations, total: fee + storage + traffic + operations };
}

export function addCents(a: CostCents, b: CostCents): CostCents {
  return { fee: a.fee + b.fee, storage: a.storage + b.storage, traffic: a.traffic + b.traffic, operations: a.operations + b.operations, total: a.total + b.total };
}

/** 12345 → "123.45": exact decimal text, as the API and the view give amounts. */
export function centsText(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

export interface Amounts {
  fee: string;
  storage: string;
  traffic: string;
  operations: string;
  total: string;
}

export function amountsOf(c: CostCents): Amounts {
  return { fee: centsText(c.fee), storage: centsText(c.storage), traffic: centsText(c.traffic), operations: centsText(c.operations), total: centsText(c.total) };
}
