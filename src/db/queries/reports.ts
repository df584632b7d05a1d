import { createHash } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import type { ReportKind } from "../schema/reports.ts";
import { canonicalTimestamp } from "../timestamps.ts";
import { countRows, pageAcrossProjects, type CountMode, type KeysetOrder, type KeysetPosition, type Total } from "./keyset.ts";

/**
 * The stored report artifacts. A report row and its charts are written in one
 * statement pair, once: a second writer of the same (project, kind, period)
 * inserts nothing and reads the first one's id.
 */

/** The id every instance derives for a report: a UUID-shaped SHA-256 of its primary key. */
export function reportIdFor(projectKey: string, kind: ReportKind, periodStart: string): string {
  const hex = createHash("sha256").update(`${projectKey}\n${kind}\n${canonicalTimestamp(periodStart)}`).digest("hex");
  // Version 8 (custom) and the RFC 4122 variant, so it is a well-formed UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface NewReport {
  projectKey: string;
  kind: ReportKind;
  periodStart: string;
  periodEnd: string;
  label: string;
  timezone: string;
  content: unknown;
  html: string;
  text: string;
  csv: string;
  createdAt: string;
}

export interface NewChart {
  name: string;
  title: string;
  width: number;
  height: number;
  png: Uint8Array;
}

export interface ReportMeta {
  id: string;
  projectKey: string;
  kind: ReportKind;
  label: string;
  timezone: string;
  periodStart: string;
  periodEnd: string;
  createdAt: string;
  charts: string[];
}

export interface StoredReport extends ReportMeta {
  content: Record<string, unknown>;
  html: string;
  text: string;
  csv: string;
}

export interface StoredChart {
  name: string;
  title: string;
  width: number;
  height: number;
  png: Buffer;
}

/** Inserts the report and its charts unless it exists; true when this call wrote it. */
export async function insertReport(tx: Queryable, report: NewReport, charts: NewChart[]): Promise<{ id: string; inserted: boolean }> {
  const id = reportIdFor(report.projectKey, report.kind, report.periodStart);
  const rows = await queryRows(
    tx,
    sql`insert into reports (project_key, kind, period_start, period_end, id, label, timezone, content, html, text, csv, created_at)
        values (${report.projectKey}, ${report.kind}, ${report.periodStart}::timestamptz, ${report.periodEnd}::timestamptz, ${id}::uuid,
                ${report.label}, ${report.timezone}, ${JSON.stringify(report.content)}::jsonb, ${report.html}, ${report.text}, ${report.csv},
                ${report.createdAt}::timestamptz)
        on conflict do nothing returning 1`,
  );
  if (rows.length === 0) return { id, inserted: false };
  for (const chart of charts) {
    await tx.execute(
      sql`insert into report_charts (project_key, report_id, name, title, width, height, png)
          values (${report.projectKey}, ${id}::uuid, ${chart.name}, ${chart.title}, ${chart.width}, ${chart.height}, ${Buffer.isBuffer(chart.png) ? chart.png : Buffer.from(chart.png)})`,
    );
  }
  return { id, inserted: true };
}

export async function reportExists(db: Queryable, projectKey: string, kind: ReportKind, periodStart: string): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`select 1 from reports where project_key = ${projectKey} and kind = ${kind} and period_start = ${periodStart}::timestamptz`,
  );
  return rows.length > 0;
}

const META_COLUMNS = sql.raw(`r.id::text as id, r.project_key, r.kind, r.label, r.timezone, r.period_start::text as period_start,
  r.period_end::text as period_end, r.created_at::text as created_at,
  coalesce((select array_agg(c.name order by c.name) from report_charts c where c.project_key = r.project_key and c.report_id = r.id), '{}') as charts`);

interface MetaRow {
  id: string;
  project_key: string;
  kind: ReportKind;
  label: string;
  timezone: string;
  period_start: string;
  period_end: string;
  created_at: string;
  charts: string[] | string;
}

function toMeta(r: MetaRow): ReportMeta {
  return {
    id: r.id,
    projectKey: r.project_key,
    kind: r.kind,
    label: r.label,
    timezone: r.timezone,
    periodStart: canonicalTimestamp(r.period_start),
    periodEnd: canonicalTimestamp(r.period_end),
    createdAt: canonicalTimestamp(r.created_at),
    charts: parseTextArray(r.charts),
  };
}

/** pg parses text[] into an array; a driver that does not hands back `{a,b}`. */
function parseTextArray(value: string[] | string): string[] {
  if (Array.isArray(value)) return value;
  const inner = value.replace(/^\{|\}$/g, "");
  return inner === "" ? [] : inner.split(",");
}

export async function getReport(db: Queryable, id: string): Promise<StoredReport | null> {
  const [row] = await queryRows<MetaRow & { content: Record<string, unknown> | string; html: string; text: string; csv: string }>(
    db,
    sql`select ${META_COLUMNS}, r.content, r.html, r.text, r.csv from reports r where r.id = ${id}::uuid limit 1`,
  );
  if (!row) return null;
  const content = typeof row.content === "string" ? (JSON.parse(row.content) as Record<string, unknown>) : row.content;
  return { ...toMeta(row), content, html: row.html, text: row.text, csv: row.csv };
}

export async function getCharts(db: Queryable, projectKey: string, reportId: string, name?: string): Promise<StoredChart[]> {
  const rows = await queryRows<{ name: string; title: string; width: number; height: number; png: Uint8Array }>(
    db,
    sql`select name, title, width, height, png from report_charts
        where project_key = ${projectKey} and report_id = ${reportId}::uuid ${name === undefined ? sql`` : sql`and name = ${name}`}
        order by name`,
  );
  return rows.map((r) => ({ name: r.name, title: r.title, width: Number(r.width), height: Number(r.height), png: Buffer.from(r.png) }));
}

export interface ReportFilter {
  projects: string[];
  kinds?: ReportKind[] | undefined;
}

/** Newest period first. */
export const REPORT_ORDER: KeysetOrder = {
  lead: [{ expr: sql`r.period_start`, cast: "timestamptz", field: "period_start" }],
  tie: { expr: sql`r.id`, cast: "uuid", field: "id" },
  direction: "desc",
};

function conditions(filter: ReportFilter): SQL[] {
  return filter.kinds?.length ? [sql`r.kind = any(${sql.param(filter.kinds)}::text[])`] : [];
}

export async function listReports(
  db: Queryable,
  query: { filter: ReportFilter; after: KeysetPosition | null; limit: number },
): Promise<{ items: ReportMeta[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<MetaRow & Record<string, unknown>>(db, {
    columns: META_COLUMNS,
    from: sql`reports r`,
    where: conditions(query.filter),
    order: REPORT_ORDER,
    projects: query.filter.projects,
    after: query.after,
    limit: query.limit,
  });
  return { items: page.rows.map(toMeta), next: page.next };
}

export async function countReports(db: Queryable, filter: ReportFilter, mode: CountMode): Promise<Total> {
  if (filter.projects.length === 0) return { total: 0, exact: true };
  return countRows(db, {
    from: sql`reports r`,
    where: [sql`r.project_key = any(${sql.param(filter.projects)}::text[])`, ...conditions(filter)],
    mode,
  });
}
