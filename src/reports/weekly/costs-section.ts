import type { Queryable } from "../../db/client.ts";
import { readCosts } from "../costs/read.ts";
import type { CostsReport, Metric, MetricPosition, ScopeCosts } from "../costs/compute.ts";
import type { WeeklyReport } from "./compute.ts";
import { formatBytes, formatCount } from "./format.ts";
import type { Table } from "./report-tables.ts";

/**
 * The weekly report's costs section (docs/costs.md): the billing period that
 * holds the week's last day, as of that day, from the same cost model as
 * GET /v1/costs and reporting.fct_cost_daily. The bill shown is the one
 * covering the project: its own plan, or the account's shared plan (with the
 * project's share of the usage beside it).
 */

type ScopeFigures = Omit<ScopeCosts, "days">;

export interface CostsSection {
  configured: boolean;
  /** Why no money is shown; null when it is. */
  reason: string | null;
  currency: string | null;
  /** The day reported on: the latest with usage figures up to the week's last day. */
  asOf: string | null;
  method: string;
  planScope: "account" | "project" | null;
  /** The bill covering this project: its own, or the account's. Null without usage figures. */
  bill: ScopeFigures | null;
  /** This project's own usage when the bill is the account's; null otherwise. */
  project: ScopeFigures | null;
}

export type WeeklyReportWithCosts = WeeklyReport & { costs?: CostsSection };

const METRICS: Metric[] = ["storage", "traffic", "operations"];

function withoutDays(scope: ScopeCosts | null | undefined): ScopeFigures | null {
  if (!scope) return null;
  const { days: _days, ...rest } = scope;
  return rest;
}

export function costsSectionOf(costs: CostsReport, projectKey: string): CostsSection {
  const own = costs.projects.find((p) => p.projectKey === projectKey) ?? null;
  const shared = costs.scope === "account";
  return {
    configured: costs.configured,
    reason: costs.reason,
    currency: costs.currency,
    asOf: costs.asOf,
    method: costs.method,
    planScope: costs.scope,
    bill: withoutDays(shared ? costs.account : own),
    project: shared ? withoutDays(own) : null,
  };
}

/** Reads the costs as of the week's last day (local date), for one project. */
export async function readCostsSection(db: Queryable, input: { projectKey: string; lastDay: string }): Promise<CostsSection> {
  return costsSectionOf(await readCosts(db, { latestDay: input.lastDay }), input.projectKey);
}

export function costsOf(r: WeeklyReport): CostsSection | undefined {
  return (r as WeeklyReportWithCosts).costs;
}

const METRIC_LABEL: Record<Metric, string> = { storage: "Storage (peak)", traffic: "Traffic", operations: "Operations" };

function figure(m: MetricPosition, n: number | null): string {
  if (n === null) return "—";
  return m.unit === "bytes" ? formatBytes(n) : formatCount(n);
}

function allowanceNote(m: MetricPosition): string {
  if (m.exceededOn) return `exceeded on ${m.exceededOn}`;
  if (m.runsOutOn) return `runs out on ${m.runsOutOn} at this pace`;
  return m.included === null ? "" : "within";
}

/** One row per metric: used so far, the allowance, and the forecast with its range. */
export function costsUsageTable(s: CostsSection): Table | null {
  const bill = s.bill;
  if (!bill) return null;
  const rows = METRICS.map((metric) => {
    const m = bill.usage[metric];
    const f = m.forecast;
    return [
      METRIC_LABEL[metric],
      figure(m, m.used),
      figure(m, m.included),
      allowanceNote(m),
      f ? `${figure(m, f.expected)} (${figure(m, f.low)}–${figure(m, f.high)})` : "—",
    ];
  });
  return { headers: ["Metric", "So far", "Included", "Allowance", "Forecast (range)"], numeric: [1, 2], rows };
}

/** The period, the cost so far, the forecast and the method, in sentences. */
export function costsSummary(s: CostsSection): string[] {
  const bill = s.bill;
  if (!bill) return [s.reason ?? "No usage figures yet, so no costs."];
  const p = bill.period;
  const lines = [`Billing period ${p.start} to ${p.end}, as of ${s.asOf} (day ${p.daysElapsed} of ${p.days}; ${p.daysLeft} left).`];
  if (!s.configured || !bill.cost) lines.push(`No money shown: ${s.reason ?? bill.costNote ?? "no plan covers this project"}.`);
  else {
    const c = bill.cost;
    const whose = s.planScope === "account" ? "The account's plan (shared by every project)" : "This project's plan";
    lines.push(`${whose}: ${s.currency} ${c.total} so far (fee ${c.fee}, storage ${c.storage}, traffic ${c.traffic}, operations ${c.operations}).`);
    if (bill.forecastCost) lines.push(`Forecast for the period: ${s.currency} ${bill.forecastCost.expected.total} (range ${bill.forecastCost.low.total} to ${bill.forecastCost.high.total}).`);
  }
  if (s.project) {
    const u = s.project.usage;
    lines.push(`This project so far: storage ${figure(u.storage, u.storage.used)} (peak), traffic ${figure(u.traffic, u.traffic.used)}, ${formatCount(u.operations.used)} operations.`);
  }
  lines.push(`Forecast method: ${s.method}.`);
  return lines;
}

/** CSV rows: `costs` section, one per amount and metric (amounts as exact decimal text in the note). */
export function costsCsvRows(s: CostsSection | undefined): [string, string, string, string, number | null, null, string][] {
  if (!s) return [];
  const rows: [string, string, string, string, number | null, null, string][] = [];
  if (!s.bill || !s.bill.cost) rows.push(["costs", s.asOf ?? "period", "configured", "", null, null, s.reason ?? s.bill?.costNote ?? "no usage figures"]);
  const bill = s.bill;
  if (!bill) return rows;
  const item = `${bill.period.start}..${bill.period.end}`;
  if (bill.cost) {
    for (const key of ["fee", "storage", "traffic", "operations", "total"] as const) {
      rows.push(["costs", item, `cost_${key}`, s.currency ?? "", Math.round(Number(bill.cost[key]) * 100), null, `${bill.cost[key]} ${s.currency}; cents as of ${s.asOf}`]);
    }
    if (bill.forecastCost) rows.push(["costs", item, "forecast_total", s.currency ?? "", Math.round(Number(bill.forecastCost.expected.total) * 100), null, `cents; range ${bill.forecastCost.low.total} to ${bill.forecastCost.high.total}`]);
  }
  for (const metric of METRICS) {
    const m = bill.usage[metric];
    rows.push(["costs", item, `${metric}_used`, m.unit, m.used, null, `included ${m.included ?? "n/a"}; ${allowanceNote(m) || "no allowance"}`]);
  }
  return rows;
}
