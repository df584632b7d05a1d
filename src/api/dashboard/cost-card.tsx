import type { CostsReport, MetricPosition, ScopeCosts } from "../../reports/costs/compute.ts";
import { costChartSvg } from "../../reports/costs/cost-chart.ts";
import { formatBytes, formatCount } from "../../reports/weekly/format.ts";
import type { ApiClient } from "./api-client.ts";
import { Empty, Table } from "./ui.tsx";

/**
 * The cost card and chart (docs/costs.md) for the overview and the
 * all-projects page: the bill covering one project, or the account's, from
 * GET /v1/costs. Load with `loadCosts`, render with `CostCard`.
 */

export function loadCosts(api: ApiClient, projectKey?: string): Promise<CostsReport> {
  return api.get<CostsReport>("/v1/costs", { project: projectKey });
}

const METRICS = [
  ["storage", "Storage (peak)"],
  ["traffic", "Traffic"],
  ["operations", "Operations"],
] as const;

function amount(m: MetricPosition, n: number | null) {
  if (n === null) return "—";
  return m.unit === "bytes" ? formatBytes(n) : formatCount(n);
}

function allowance(m: MetricPosition): string {
  if (m.exceededOn) return `exceeded on ${m.exceededOn}`;
  if (m.runsOutOn) return `runs out on ${m.runsOutOn} at this pace`;
  return m.included === null ? "no allowance known" : "within the allowance";
}

/** The scope whose bill covers the project: its own plan, or the account's shared plan; the account's without a project. */
function billFor(costs: CostsReport, projectKey: string | undefined): ScopeCosts | null {
  if (!projectKey || costs.scope === "account") return costs.account;
  return costs.projects.find((p) => p.projectKey === projectKey) ?? null;
}

export function CostCard({ costs, projectKey }: { costs: CostsReport; projectKey?: string }) {
  const bill = billFor(costs, projectKey);
  if (!bill || costs.asOf === null) {
    return <Empty title="No costs yet.">{costs.reason ?? "There are no usage figures yet."}</Empty>;
  }
  const p = bill.period;
  const chart = `data:image/svg+xml;base64,${Buffer.from(costChartSvg(bill, costs.currency)).toString("base64")}`;
  const whose = bill.scope === "account" ? (costs.scope === "account" ? "the account's shared plan" : "all projects together") : "this project's plan";
  return (
    <section class="costs" aria-label="Costs">
      {!costs.configured ? (
        <Empty title="Usage without money.">{costs.reason}</Empty>
      ) : null}
      <div class="grid">
        <div class="card" title={`Billing period ${p.start} to ${p.end}, day ${p.daysElapsed} of ${p.days}`}>
          <div class="muted">
            Period {p.start} – {p.end}
          </div>
          <div class="figure">{bill.cost ? `${costs.currency} ${bill.cost.total}` : "—"}</div>
          <span class="muted">{bill.cost ? `so far, ${whose}; as of ${costs.asOf}` : (bill.costNote ?? costs.reason)}</span>
        </div>
        {bill.forecastCost ? (
          <div class="card" title={costs.method}>
            <div class="muted">Forecast for the period</div>
            <div class="figure">{`${costs.currency} ${bill.forecastCost.expected.total}`}</div>
            <span class="muted">
              range {bill.forecastCost.low.total} – {bill.forecastCost.high.total}
            </span>
          </div>
        ) : null}
      </div>
      <img src={chart} alt={bill.cost ? "Cost so far this billing period, with the forecast" : "Traffic so far this billing period"} width={640} loading="lazy" />
      <Table caption="Usage this billing period" head={["Metric", "So far", "Included", "Allowance", "Forecast (range)"]}>
        {METRICS.map(([key, label]) => {
          const m = bill.usage[key];
          return (
            <tr class={m.exceededOn ? "error" : undefined}>
              <td>{label}</td>
              <td class="num">{amount(m, m.used)}</td>
              <td class="num">{amount(m, m.included)}</td>
              <td>{allowance(m)}</td>
              <td class="num">{m.forecast ? `${amount(m, m.forecast.expected)} (${amount(m, m.forecast.low)} – ${amount(m, m.forecast.high)})` : "—"}</td>
            </tr>
          );
        })}
      </Table>
      <p class="muted">Forecast: {costs.method}. See docs/costs.md.</p>
    </section>
  );
}
