import type { Db, Queryable } from "../../db/client.ts";
import { latestAnchors } from "../../db/audit/anchors.ts";
import { insertReport, reportExists, reportIdFor } from "../../db/queries/reports.ts";
import { ValidationError } from "../../errors.ts";
import { REPORT_ANCHORS } from "./anchors.ts";
import { renderWeeklyCharts } from "./chart.ts";
import { computeWeeklyReport } from "./compute.ts";
import { readCostsSection, type WeeklyReportWithCosts } from "./costs-section.ts";
import { shiftWeek, weekPeriod } from "./period.ts";
import { readWeeklyRows } from "./query.ts";
import { renderCsv, renderHtml, renderText } from "./render.ts";

export interface BuildDeps {
  db: Db;
  now: () => Date;
  /** The scheduler's fence: refuses the write once this instance lost its claim. */
  fence?: (tx: Queryable) => Promise<void>;
}

export interface BuildInput {
  projectKey: string;
  /** `2026-W13`. */
  week: string;
  timezone: string;
  /** Base URL of the deployment, for the link in the report. */
  publicUrl: string;
}

export interface BuiltReport {
  id: string;
  /** False when the report already existed (a rerun): nothing was written. */
  inserted: boolean;
  week: string;
}

export function reportUrl(publicUrl: string, id: string): string {
  return `${publicUrl.replace(/\/+$/, "")}/v1/reports/${id}`;
}

/**
 * A week's figures, read and computed but not stored: the report's content,
 * and the dashboard's overview of a week that may still be running.
 */
export async function readWeeklyReport(db: Db, input: { projectKey: string; week: string; timezone: string; now: Date }): Promise<WeeklyReportWithCosts> {
  const current = weekPeriod(input.week, input.timezone);
  const previous = weekPeriod(shiftWeek(input.week, -1), input.timezone);
  // One snapshot for every read, so the figures agree with each other.
  const { rows, anchors, costs } = await db.transaction(
    async (tx) => ({
      rows: await readWeeklyRows(tx, { projectKey: input.projectKey, current, previous }),
      anchors: await latestAnchors(tx, input.projectKey, REPORT_ANCHORS),
      // The billing period holding the week's last day, as of that day (docs/costs.md).
      costs: await readCostsSection(tx, { projectKey: input.projectKey, lastDay: current.days[current.days.length - 1]!.date }),
    }),
    { isolationLevel: "repeatable read", accessMode: "read only" },
  );
  return { ...computeWeeklyReport({ rows, current, previous, generatedAt: input.now.toISOString(), anchors }), costs };
}

/**
 * Reads, computes, renders and stores one project's report for one finished
 * week, unless it is stored already. Reruns are harmless: the first stored
 * report stays, and its id is the same on every instance.
 */
export async function buildWeeklyReport(deps: BuildDeps, input: BuildInput): Promise<BuiltReport> {
  const current = weekPeriod(input.week, input.timezone);
  const now = deps.now();
  if (Date.parse(current.end) > now.getTime()) {
    throw new ValidationError(`week: ${input.week} has not ended yet in ${input.timezone} (it ends ${current.end}); a report is written once, so only finished weeks have one`);
  }
  const id = reportIdFor(input.projectKey, "weekly", current.start);
  if (await reportExists(deps.db, input.projectKey, "weekly", current.start)) return { id, inserted: false, week: input.week };

  const report = await readWeeklyReport(deps.db, { ...input, now });
  const url = reportUrl(input.publicUrl, id);
  const charts = renderWeeklyCharts(report);

  const result = await deps.db.transaction(async (tx) => {
    await deps.fence?.(tx);
    return insertReport(
      tx,
      {
        projectKey: input.projectKey,
        kind: "weekly",
        periodStart: current.start,
        periodEnd: current.end,
        label: input.week,
        timezone: input.timezone,
        content: report,
        html: renderHtml(report, { reportUrl: url }),
        text: renderText(report, { reportUrl: url }),
        csv: renderCsv(report),
        createdAt: now.toISOString(),
      },
      charts,
    );
  });
  return { id: result.id, inserted: result.inserted, week: input.week };
}
