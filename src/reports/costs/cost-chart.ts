import * as Plot from "@observablehq/plot";
import { parseHTML } from "linkedom";
import type { ScopeCosts } from "./compute.ts";

/**
 * The dashboard's cost chart, as a standalone SVG: the cost so far, day by
 * day through the billing period, and the forecast to its last day (dashed)
 * with the forecast's range as a bar at the end. Without money, the period's
 * traffic so far in GB against the allowance when there is one. Display only:
 * amounts are drawn from the exact decimal text.
 */

const WIDTH = 640;
const HEIGHT = 260;
const SVG_NS = "http://www.w3.org/2000/svg";

export function costChartSvg(scope: ScopeCosts, currency: string | null): string {
  const { document } = parseHTML("<!doctype html><html><body></body></html>");
  const money = scope.cost !== null && scope.forecastCost !== null;
  const points = scope.days.map((d) => ({
    date: new Date(`${d.date}T00:00:00Z`),
    value: money ? Number(d.costToDate ?? 0) : d.trafficBytesToDate / 1e9,
  }));
  const last = points[points.length - 1];
  const end = new Date(`${scope.period.end}T00:00:00Z`);
  const marks: Plot.Markish[] = [Plot.ruleY([0]), Plot.lineY(points, { x: "date", y: "value", stroke: "#2f6fdf", strokeWidth: 2 })];
  if (money && last) {
    const f = scope.forecastCost!;
    marks.push(
      Plot.line([{ date: last.date, value: last.value }, { date: end, value: Number(f.expected.total) }], { x: "date", y: "value", stroke: "#2f6fdf", strokeDasharray: "4 3" }),
      Plot.ruleX([{ date: end, low: Number(f.low.total), high: Number(f.high.total) }], { x: "date", y1: "low", y2: "high", stroke: "#b42318", strokeWidth: 3 }),
    );
  } else if (scope.usage.traffic.included !== null) {
    marks.push(Plot.ruleY([scope.usage.traffic.included / 1e9], { stroke: "#b42318", strokeDasharray: "4 3" }));
  }
  const plot = Plot.plot({
    document,
    width: WIDTH,
    height: HEIGHT,
    marginLeft: 56,
    style: { fontFamily: "DejaVu Sans, sans-serif", fontSize: "12px", background: "white", color: "#222" },
    x: { type: "utc", domain: [new Date(`${scope.period.start}T00:00:00Z`), end], label: null },
    y: { grid: true, label: money ? `Cost so far (${currency ?? ""})` : "Traffic so far (GB)", zero: true },
    marks,
  } as Plot.PlotOptions) as unknown as { tagName: string; setAttribute(k: string, v: string): void; outerHTML: string };
  plot.setAttribute("xmlns", SVG_NS);
  return plot.outerHTML;
}
