import type { Db } from "../../db/client.ts";
import { readWeeklyReport } from "../../reports/weekly/build.ts";
import { chartSvg } from "../../reports/weekly/chart.ts";
import { chartList } from "../../reports/weekly/format.ts";
import type { WeeklyReport } from "../../reports/weekly/compute.ts";

/**
 * The overview's charts are the weekly report's, drawn by the same code for
 * the week asked (the running one by default), and shown as SVG images: an
 * <img> never runs what an SVG holds, and MIME types are upload input.
 */
export interface OverviewChart {
  name: string;
  title: string;
  src: string;
}

export async function weekOverview(db: Db, input: { projectKey: string; week: string; timezone: string; now: Date }): Promise<{ report: WeeklyReport; charts: OverviewChart[] }> {
  const report = await readWeeklyReport(db, input);
  const charts = chartList(report).map(({ name, title }) => ({
    name,
    title,
    src: `data:image/svg+xml;base64,${Buffer.from(chartSvg(report, name)).toString("base64")}`,
  }));
  return { report, charts };
}
