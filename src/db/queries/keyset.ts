import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { countHonestly } from "./honest-count.ts";
import { fromEpochMicros, isCalendarDay, toEpochMicros } from "../timestamps.ts";

/**
 * Keyset paging over project-keyed tables. Every index of the ledger starts
 * with `project_key`, so a listing across projects runs one index-ordered
 * branch per project (UNION ALL) and merges them: rows come in the order
 * `(lead…, project_key, tie)`, where `tie` is unique within a project.
 * No OFFSET anywhere, so page 10,000 costs what page 1 costs.
 */

export type SortDirection = "asc" | "desc";

/** A column the order compares, with the SQL type its cursor value is cast to. */
export interface KeyColumn {
  /**
   * Qualified with the table (`files.datetime_uploaded`): in ORDER BY a bare name
   * means the select list's column of that name, here the `::text` copy, which
   * no index can serve.
   */
  expr: SQL;
  cast: "timestamptz" | "bigint" | "integer" | "text" | "uuid" | "date" | "boolean";
  /** The property of a result row that carries this key's value (timestamps as text). */
  field: string;
}

export type KeyValue = string | number | boolean;

/** Where the previous page ended: its last row's key values. */
export interface KeysetPosition {
  lead: KeyValue[];
  projectKey: string;
  tie: KeyValue;
}

export interface KeysetOrder {
  lead: KeyColumn[];
  tie: KeyColumn;
  direction: SortDirection;
}

export interface PageQuery {
  /** The select list, with timestamps cast to text so microseconds survive. */
  columns: SQL;
  /** `files`, `file_events`, …: the table, aliased or not. */
  from: SQL;
  /** Conditions besides the project; ANDed. */
  where: SQL[];
  order: KeysetOrder;
  /** The projects to list, in any order; null for a table that is not keyed by project. */
  projects: string[] | null;
  after: KeysetPosition | null;
  limit: number;
}

export interface Page<T> {
  rows: T[];
  /** Null on the last page. */
  next: KeysetPosition | null;
}

/** Project keys compared as the database does under COLLATE "C": by UTF-8 bytes. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/*
 * Cursor values and date filters end up cast in SQL (`$1::timestamptz`), where a
 * value PostgreSQL refuses would be a 500. toEpochMicros already refuses days
 * that do not exist (`2024-02-30`, which JavaScript's Date rolls over); these add
 * the years both the database and the canonical form handle, and the zone
 * offsets PostgreSQL takes. A timestamp then reaches SQL only in canonical form,
 * never as the text the client sent.
 */

const MIN_MICROS = toEpochMicros("1900-01-01T00:00:00Z");
const MAX_MICROS = toEpochMicros("9999-12-31T23:59:59.999999Z");
/** PostgreSQL refuses offsets beyond ±15:59 (`time zone displacement out of range`). */
const ZONE = /[+-](\d{2})(?::?(\d{2}))?$/;

/** An ISO 8601 timestamp whose day, time and offset exist and whose instant falls in 1900–9999, in canonical form; else null. */
export function exactTimestamp(value: string): string | null {
  if (value.length > 40) return null;
  let micros: bigint;
  try {
    micros = toEpochMicros(value);
  } catch {
    return null;
  }
  const zone = ZONE.exec(value.trim());
  if (zone && (Number(zone[1]) > 15 || Number(zone[2] ?? 0) > 59)) return null;
  return micros >= MIN_MICROS && micros <= MAX_MICROS ? fromEpochMicros(micros) : null;
}

/** A calendar date, YYYY-MM-DD, that exists, from 1900 to 9999. */
export function exactDate(value: string): boolean {
  return isCalendarDay(value) && value >= "1900";
}

const param = (value: KeyValue, cast: KeyColumn["cast"]) => sql`${value}::${sql.raw(cast)}`;

function row(parts: SQL[]): SQL {
  return parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql`, `)})`;
}

/** The condition "after the cursor" inside the branch of one project. */
function afterCondition(order: KeysetOrder, projectKey: string | null, after: KeysetPosition): SQL {
  const desc = order.direction === "desc";
  const leadCols = order.lead.map((k) => k.expr);
  const leadVals = order.lead.map((k, i) => param(after.lead[i]!, k.cast));
  const cmp = projectKey === null ? 0 : compareKeys(projectKey, after.projectKey);
  if (cmp === 0) {
    const op = sql.raw(desc ? "<" : ">");
    return sql`${row([...leadCols, order.tie.expr])} ${op} ${row([...leadVals, param(after.tie, order.tie.cast)])}`;
  }
  // Another project's rows tie with the cursor's lead values only on the side
  // its key puts them: after the cursor project in the merged order, or before it.
  const strict = desc ? cmp > 0 : cmp < 0;
  const op = sql.raw(`${desc ? "<" : ">"}${strict ? "" : "="}`);
  return sql`${row(leadCols)} ${op} ${row(leadVals)}`;
}

function orderBy(order: KeysetOrder, withProject: boolean, outer: boolean): SQL {
  const dir = sql.raw(order.direction === "desc" ? "desc" : "asc");
  const name = (k: KeyColumn, i: number) => (outer ? sql.raw(`_k${i}`) : k.expr);
  const parts = order.lead.map((k, i) => sql`${name(k, i)} ${dir}`);
  if (withProject) parts.push(sql`project_key collate "C" ${dir}`);
  parts.push(sql`${outer ? sql.raw("_tie") : order.tie.expr} ${dir}`);
  return sql.join(parts, sql`, `);
}

/** One page, in order, plus where the next one starts. Fetches one row more than asked to know. */
export async function pageAcrossProjects<T extends Record<string, unknown>>(db: Queryable, query: PageQuery): Promise<Page<T>> {
  const { order, after } = query;
  const fetch = query.limit + 1;
  const projects = query.projects === null ? [null] : [...new Set(query.projects)];
  if (projects.length === 0) return { rows: [], next: null };

  const branch = (projectKey: string | null, outer: boolean) => {
    const where = projectKey === null ? [...query.where] : [sql`project_key = ${projectKey}`, ...query.where];
    if (after) where.push(afterCondition(order, projectKey, after));
    if (where.length === 0) where.push(sql`true`);
    // In a merged listing each branch also hands its sort keys up, typed, for the outer order.
    const keys = outer ? sql`, ${sql.join([...order.lead.map((k, i) => sql`${k.expr} as ${sql.raw(`_k${i}`)}`), sql`${order.tie.expr} as _tie`], sql`, `)}` : sql``;
    return sql`select ${query.columns}${keys} from ${query.from} where ${sql.join(where, sql` and `)}
      order by ${orderBy(order, false, false)} limit ${fetch}`;
  };

  let rows: T[];
  if (projects.length === 1) {
    rows = await queryRows<T>(db, branch(projects[0]!, false));
  } else {
    const branches = projects.map((p) => sql`(${branch(p, true)})`);
    rows = await queryRows<T>(db, sql`select * from (${sql.join(branches, sql` union all `)}) merged
      order by ${orderBy(order, true, true)} limit ${fetch}`);
    for (const r of rows) {
      order.lead.forEach((_, i) => delete r[`_k${i}`]);
      delete r["_tie"];
    }
  }

  const more = rows.length > query.limit;
  if (more) rows.length = query.limit;
  const last = rows[rows.length - 1];
  return { rows, next: more && last ? positionOf(order, last) : null };
}

export function positionOf(order: KeysetOrder, row: Record<string, unknown>): KeysetPosition {
  return {
    lead: order.lead.map((k) => row[k.field] as KeyValue),
    projectKey: (row["project_key"] as string | undefined) ?? "",
    tie: row[order.tie.field] as KeyValue,
  };
}

export type CountMode = "auto" | "exact" | "none";

export interface Total {
  total: number | null;
  /** False when the figure is the planner's estimate (more rows than are counted exactly). */
  exact: boolean;
}

/** The total of a list: see countHonestly (exact up to its bound, never a default shown as a figure). */
export async function countRows(db: Queryable, query: { from: SQL; where: SQL[]; mode: CountMode }): Promise<Total> {
  return countHonestly(db, query);
}
