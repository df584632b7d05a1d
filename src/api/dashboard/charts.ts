import type { Db } from "../../db/client.ts";
import { readWeeklyReport } from "../../reports/weekly/build.ts";
import { chartSvg } from "../../reports/weekly/chart.ts";
import { chartList } from "../../reports/weekly/format.ts";
import type { WeeklyReport } from "../../reports/weekly/compute.ts";

/**
 * The overview's charts are the weekly report's, drawn by the same code for
 * the week asked (the running one by default), and shown as SVG images: an
 * <img> never runs what an SVG holds, and MIME types are upload input.
 *
 * Reading a week walks the project's files (orphan figures included: seconds
 * at a million files), so each (project, week) is kept for a minute: a page
 * reloaded or shared by a team reads the ledger once.
 */
export interface OverviewChart {
  name: string;
  title: string;
  src: string;
}

export interface WeekOverview {
  report: WeeklyReport;
  charts: OverviewChart[];
}

const KEEP_MS = 60_000;

/** A few projects × weeks; old entries are dropped as new ones come. */
const MAX_KEPT = 50;

export function weekOverviews(db: Db) {
  const kept = new Map<string, { at: number; overview: Promise<WeekOverview> }>();
  const build = async (input: { projectKey: string; week: string; timezone: string; now: Date }): Promise<WeekOverview> => {
    const report = await readWeeklyReport(db, input);
    const drawn = report;
    const charts = chartList(report).map(({ name, title }) => ({
      name,
      title,
      src: `data:image/svg+xml;base64,${Buffer.from(chartSvg(drawn, name)).toString("base64")}`,
    }));
    return { report, charts };
  };
  return (input: { projectKey: string; week: string; timezone: string; now: Date }): Promise<WeekOverview> => {
    const key = `${input.projectKey}\u0000${input.week}\u0000${input.timezone}`;
    const hit = kept.get(key);
    if (hit && input.now.getTime() - hit.at < KEEP_MS) return hit.overview;
    const overview = build(input);
    // A failed read is not kept: the next request tries again.
    overview.catch(() => kept.delete(key));
    kept.delete(key);
    kept.set(key, { at: input.now.getTime(), overview });
    while (kept.size > MAX_KEPT) kept.delete(kept.keys().next().value!);
    return overview;
  };
}
export type WeekOverviews = ReturnType<typeof weekOverviews>;
