import { ACCOUNT_SCOPE, type Plan, type Pricing } from "../../pricing-schema.ts";
import { addDays, billingPeriodOf, daysBetween, type BillingPeriod } from "./billing-period.ts";
import { addCents, amountsOf, centsText, planCostCents, type Amounts, type CostCents } from "./money.ts";

/**
 * The cost model (docs/costs.md), pure: pricing, daily usage and a day in,
 * each billing scope's position in its billing period out. No I/O, no clock.
 *
 * - Traffic and operations are sums over the period; storage is a level,
 *   billed on the period's peak daily figure.
 * - Forecast: linear on the period's daily average so far (traffic,
 *   operations: the daily amount; storage: the daily change), with a range
 *   from the smallest and largest daily figure of the last 7 days.
 * - An allowance runs out on the first day the figure would pass it at the
 *   period's average pace (within the period; storage up to a year ahead).
 */

export const FORECAST_METHOD =
  "linear: the period's daily average so far carried to the period's last day (storage: its average daily change, billed on the peak); range: the smallest and largest daily figure of the last 7 days carried the same way";

export const NO_PRICING_REASON =
  "no pricing block in the configuration file (UCLEDGER_CONFIG), so usage is shown without money; describe the plan as in docs/costs.md";

export type Metric = "storage" | "traffic" | "operations";
const METRICS: Metric[] = ["storage", "traffic", "operations"];
/** How far ahead a storage allowance's run-out day is looked for (storage does not reset with the period). */
const STORAGE_HORIZON_DAYS = 365;

export interface UsageRow {
  projectKey: string;
  date: string;
  metric: string;
  value: number;
}

type DayFigures = Partial<Record<Metric, number>>;

export interface Range {
  expected: number;
  low: number;
  high: number;
}

export interface MetricPosition {
  unit: "bytes" | "operations";
  /** Traffic and operations: the period's sum so far; storage: the period's peak so far. */
  used: number;
  /** Storage: the latest day's level; the others: the latest day's amount. Null without a figure that day. */
  latest: number | null;
  /** Null without pricing. */
  included: number | null;
  /** `used` beyond `included`; null without pricing. */
  over: number | null;
  /** The day `used` first passed `included` in this period. */
  exceededOn: string | null;
  /** At the period's average pace, the day it would pass `included`; null when it does not (in time) or already did. */
  runsOutOn: string | null;
  /** End-of-period figure (storage: the billed peak). Null with no day of the period known. */
  forecast: Range | null;
}

export interface CostDay {
  date: string;
  trafficBytesToDate: number;
  operationsToDate: number;
  storageBytes: number | null;
  storageBytesPeak: number | null;
  /** Null without pricing, and for projects billed together under an account plan. */
  costToDate: string | null;
}

export interface ScopeCosts {
  scope: "account" | "project";
  /** Null for the account. */
  projectKey: string | null;
  name: string;
  period: BillingPeriod & { daysElapsed: number; daysLeft: number };
  usage: Record<Metric, MetricPosition>;
  /** The period's cost so far; null when this scope has no bill of its own, with `costNote` saying why. */
  cost: Amounts | null;
  forecastCost: { expected: Amounts; low: Amounts; high: Amounts } | null;
  costNote: string | null;
  /** Each day of the period up to the day reported on. */
  days: CostDay[];
}

export interface CostsReport {
  configured: boolean;
  /** Why no money is shown; null when it is. */
  reason: string | null;
  currency: string | null;
  billingDay: number | null;
  scope: "account" | "project" | null;
  /** The day reported on: the latest with usage figures unless asked. Null without any. */
  asOf: string | null;
  method: string;
  account: ScopeCosts | null;
  projects: ScopeCosts[];
}

export interface CostsInput {
  pricing: Pricing | undefined;
  projects: { key: string; name: string }[];
  usage: UsageRow[];
  /** The day to report on; its billing period is the one shown. */
  asOf: string;
}

function seriesOf(rows: UsageRow[], keep: (key: string) => boolean): Map<string, DayFigures> {
  const series = new Map<string, DayFigures>();
  for (const row of rows) {
    if (!keep(row.projectKey) || !METRICS.includes(row.metric as Metric)) continue;
    const day = series.get(row.date) ?? {};
    day[row.metric as Metric] = (day[row.metric as Metric] ?? 0) + row.value;
    series.set(row.date, day);
  }
  return series;
}

/** round(a × b / c) half up, exactly, for whole a, b ≥ 0 and c > 0. */
function scaled(a: number, b: number, c: number): number {
  return Number((BigInt(a) * BigInt(b) + BigInt(c) / 2n) / BigInt(c));
}

interface Walk {
  days: { date: string; figures: DayFigures; trafficToDate: number; operationsToDate: number; storagePeak: number | null }[];
  used: Record<Metric, number>;
  latest: Record<Metric, number | null>;
}

function walkPeriod(series: Map<string, DayFigures>, start: string, asOf: string): Walk {
  const days: Walk["days"] = [];
  let traffic = 0;
  let operations = 0;
  let peak: number | null = null;
  for (let date = start; date <= asOf; date = addDays(date, 1)) {
    const figures = series.get(date) ?? {};
    traffic += figures.traffic ?? 0;
    operations += figures.operations ?? 0;
    if (figures.storage !== undefined) peak = Math.max(peak ?? 0, figures.storage);
    days.push({ date, figures, trafficToDate: traffic, operationsToDate: operations, storagePeak: peak });
  }
  const last = days[days.length - 1]?.figures ?? {};
  return {
    days,
    used: { traffic, operations, storage: peak ?? 0 },
    latest: { traffic: last.traffic ?? null, operations: last.operations ?? null, storage: last.storage ?? null },
  };
}

/** The last 7 days' daily figures (storage: daily changes), across the period's start if need be. */
function lastWeek(series: Map<string, DayFigures>, metric: Metric, asOf: string): number[] {
  const out: number[] = [];
  for (let i = 6; i >= 0; i--) {
    const day = addDays(asOf, -i);
    const value = series.get(day)?.[metric];
    if (value === undefined) continue;
    if (metric !== "storage") out.push(value);
    else {
      const before = series.get(addDays(day, -1))?.storage;
      if (before !== undefined) out.push(value - before);
    }
  }
  return out;
}

/** The storage level the period's average change is measured from: the day before the period, else its first known day. */
function storageBase(series: Map<string, DayFigures>, walk: Walk, start: string): { level: number; date: string } | null {
  const before = series.get(addDays(start, -1))?.storage;
  if (before !== undefined) return { level: before, date: addDays(start, -1) };
  const first = walk.days.find((d) => d.figures.storage !== undefined);
  return first ? { level: first.figures.storage!, date: first.date } : null;
}

function forecastOf(series: Map<string, DayFigures>, walk: Walk, metric: Metric, start: string, asOf: string, daysLeft: number, daysElapsed: number): { forecast: Range | null; pace: { num: number; den: number } | null } {
  const week = lastWeek(series, metric, asOf);
  if (metric !== "storage") {
    const used = walk.used[metric];
    const expected = used + scaled(used, daysLeft, daysElapsed);
    const low = week.length ? used + Math.min(...week) * daysLeft : expected;
    const high = week.length ? used + Math.max(...week) * daysLeft : expected;
    return { forecast: { expected, low: Math.min(low, expected), high: Math.max(high, expected) }, pace: { num: used, den: daysElapsed } };
  }
  const latest = walk.latest.storage;
  const base = storageBase(series, walk, start);
  if (latest === null || base === null) return { forecast: null, pace: null };
  const span = daysBetween(base.date, asOf);
  const change = latest - base.level;
  // Signed average change per day, carried over the days left; the bill is on the peak.
  const step = span > 0 ? Math.sign(change) * scaled(Math.abs(change), daysLeft, span) : 0;
  const peakAt = (level: number) => Math.max(walk.used.storage, Math.max(0, level));
  const expected = peakAt(latest + step);
  const low = week.length ? peakAt(latest + Math.min(...week) * daysLeft) : expected;
  const high = week.length ? peakAt(latest + Math.max(...week) * daysLeft) : expected;
  return { forecast: { expected, low: Math.min(low, expected), high: Math.max(high, expected) }, pace: span > 0 && change > 0 ? { num: change, den: span } : null };
}

function positionOf(series: Map<string, DayFigures>, walk: Walk, metric: Metric, included: number | null, period: ScopeCosts["period"], asOf: string): MetricPosition {
  const used = walk.used[metric];
  const { forecast, pace } = walk.days.length ? forecastOf(series, walk, metric, period.start, asOf, period.daysLeft, period.daysElapsed) : { forecast: null, pace: null };
  let exceededOn: string | null = null;
  let runsOutOn: string | null = null;
  if (included !== null) {
    const crossed = walk.days.find((d) => (metric === "traffic" ? d.trafficToDate : metric === "operations" ? d.operationsToDate : d.storagePeak ?? 0) > included);
    exceededOn = crossed?.date ?? null;
    if (!crossed && pace && pace.num > 0) {
      // The first whole day k after asOf with used + pace·k > included.
      const from = metric === "storage" ? walk.latest.storage ?? used : used;
      const k = Math.floor(((included - from) * pace.den) / pace.num) + 1;
      const horizon = metric === "storage" ? STORAGE_HORIZON_DAYS : period.daysLeft;
      if (k <= horizon) runsOutOn = addDays(asOf, k);
    }
  }
  return {
    unit: metric === "operations" ? "operations" : "bytes",
    used,
    latest: walk.latest[metric],
    included,
    over: included === null ? null : Math.max(0, used - included),
    exceededOn,
    runsOutOn,
    forecast,
  };
}

function includedOf(plan: Plan | undefined, metric: Metric): number | null {
  if (!plan) return null;
  return metric === "storage" ? plan.includedStorageBytes : metric === "traffic" ? plan.includedTrafficBytes : plan.includedOperations;
}

function scopeCosts(
  identity: Pick<ScopeCosts, "scope" | "projectKey" | "name">,
  series: Map<string, DayFigures>,
  billingDay: number,
  asOf: string,
  plan: Plan | undefined,
  costNote: string | null,
): ScopeCosts & { cents: CostCents | null; forecastCents: { expected: CostCents; low: CostCents; high: CostCents } | null } {
  const p = billingPeriodOf(asOf, billingDay);
  const period = { ...p, daysElapsed: daysBetween(p.start, asOf) + 1, daysLeft: daysBetween(asOf, p.end) };
  const walk = walkPeriod(series, p.start, asOf);
  const usage = Object.fromEntries(METRICS.map((m) => [m, positionOf(series, walk, m, includedOf(plan, m), period, asOf)])) as Record<Metric, MetricPosition>;
  const cents = plan ? planCostCents(plan, { storageBytes: usage.storage.used, trafficBytes: usage.traffic.used, operations: usage.operations.used }) : null;
  const at = (pick: keyof Range) =>
    planCostCents(plan!, {
      storageBytes: usage.storage.forecast?.[pick] ?? usage.storage.used,
      trafficBytes: usage.traffic.forecast?.[pick] ?? usage.traffic.used,
      operations: usage.operations.forecast?.[pick] ?? usage.operations.used,
    });
  const forecastCents = plan ? { expected: at("expected"), low: at("low"), high: at("high") } : null;
  const days = walk.days.map((d) => ({
    date: d.date,
    trafficBytesToDate: d.trafficToDate,
    operationsToDate: d.operationsToDate,
    storageBytes: d.figures.storage ?? null,
    storageBytesPeak: d.storagePeak,
    costToDate: plan ? centsText(planCostCents(plan, { storageBytes: d.storagePeak ?? 0, trafficBytes: d.trafficToDate, operations: d.operationsToDate }).total) : null,
  }));
  return {
    ...identity,
    period,
    usage,
    cost: cents ? amountsOf(cents) : null,
    forecastCost: forecastCents ? { expected: amountsOf(forecastCents.expected), low: amountsOf(forecastCents.low), high: amountsOf(forecastCents.high) } : null,
    costNote,
    days,
    cents,
    forecastCents,
  };
}

function strip(s: ReturnType<typeof scopeCosts>): ScopeCosts {
  const { cents: _c, forecastCents: _f, ...rest } = s;
  return rest;
}

/** Each scope's position in the billing period holding `asOf`. */
export function computeCosts({ pricing, projects, usage, asOf }: CostsInput): CostsReport {
  const billingDay = pricing?.billingDay ?? 1;
  const accountSeries = seriesOf(usage, (key) => projects.some((p) => p.key === key));
  const base = { method: FORECAST_METHOD, asOf, currency: pricing?.currency ?? null, billingDay: pricing?.billingDay ?? null, scope: pricing?.scope ?? null };

  if (!pricing) {
    const account = scopeCosts({ scope: "account", projectKey: null, name: "account" }, accountSeries, billingDay, asOf, undefined, NO_PRICING_REASON);
    const list = projects.map((p) => scopeCosts({ scope: "project", projectKey: p.key, name: p.name }, seriesOf(usage, (k) => k === p.key), billingDay, asOf, undefined, NO_PRICING_REASON));
    return { ...base, configured: false, reason: NO_PRICING_REASON, account: strip(account), projects: list.map(strip) };
  }

  if (pricing.scope === "account") {
    const account = scopeCosts({ scope: "account", projectKey: null, name: "account" }, accountSeries, billingDay, asOf, pricing.plans[ACCOUNT_SCOPE], null);
    const note = "billed together under the account's plan: see the account's cost";
    const list = projects.map((p) => scopeCosts({ scope: "project", projectKey: p.key, name: p.name }, seriesOf(usage, (k) => k === p.key), billingDay, asOf, undefined, note));
    return { ...base, configured: true, reason: null, account: strip(account), projects: list.map(strip) };
  }

  // A plan per project: the account's bill is the sum of the projects' bills.
  const list = projects.map((p) => scopeCosts({ scope: "project", projectKey: p.key, name: p.name }, seriesOf(usage, (k) => k === p.key), billingDay, asOf, pricing.plans[p.key], pricing.plans[p.key] ? null : "no plan configured for this project"));
  const account = scopeCosts({ scope: "account", projectKey: null, name: "account" }, accountSeries, billingDay, asOf, undefined, "the sum of the projects' own plans");
  const zero: CostCents = { fee: 0, storage: 0, traffic: 0, operations: 0, total: 0 };
  const sum = (pick: (s: (typeof list)[number]) => CostCents | undefined) => list.reduce((acc, s) => addCents(acc, pick(s) ?? zero), zero);
  const included = (m: Metric) => list.reduce((acc, s) => acc + (s.usage[m].included ?? 0), 0);
  for (const m of METRICS) account.usage[m] = { ...account.usage[m], included: included(m), over: null, exceededOn: null, runsOutOn: null };
  account.cost = amountsOf(sum((s) => s.cents ?? undefined));
  account.forecastCost = {
    expected: amountsOf(sum((s) => s.forecastCents?.expected)),
    low: amountsOf(sum((s) => s.forecastCents?.low)),
    high: amountsOf(sum((s) => s.forecastCents?.high)),
  };
  account.days = account.days.map((d) => {
    let total = 0;
    for (const s of list) {
      const day = s.days.find((x) => x.date === d.date);
      if (day?.costToDate) total += Math.round(Number(day.costToDate) * 100);
    }
    return { ...d, costToDate: centsText(total) };
  });
  return { ...base, configured: true, reason: null, account: strip(account), projects: list.map(strip) };
}
