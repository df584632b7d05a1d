import { sql, type SQL } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { isoColumn } from "./iso.ts";
import { countRows, pageAcrossProjects, type CountMode, type KeysetOrder, type KeysetPosition, type SortDirection, type Total } from "./keyset.ts";

export interface EventFilter {
  projects: string[];
  fileUuid?: string | undefined;
  kinds?: string[] | undefined;
  sources?: string[] | undefined;
  actor?: string | undefined;
  /** Half-open on observed_at: from ≤ observed_at < to. */
  from?: string | undefined;
  to?: string | undefined;
}

export interface AuditEvent {
  projectKey: string;
  seq: number;
  fileUuid: string | null;
  kind: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  occurredAt: string | null;
  observedAt: string;
  source: string;
  runId: string | null;
  planId: string | null;
  actor: string;
  prevHash: string;
  hash: string;
}

interface EventRow {
  project_key: string;
  seq: number | string;
  file_uuid: string | null;
  kind: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  occurred_at: string | null;
  observed_at: string;
  source: string;
  run_id: string | null;
  plan_id: string | null;
  actor: string;
  prev_hash: string;
  hash: string;
}

const COLUMNS = sql.raw(`project_key, seq, file_uuid::text as file_uuid, kind, before, after,
  ${isoColumn("occurred_at")}, ${isoColumn("observed_at")}, source, run_id, plan_id, actor, prev_hash, hash`);

/** Observation time, then the chain position: the chain's own order within a project. */
export function eventOrder(direction: SortDirection): KeysetOrder {
  return {
    lead: [{ expr: sql`file_events.observed_at`, cast: "timestamptz", field: "observed_at" }],
    tie: { expr: sql`file_events.seq`, cast: "bigint", field: "seq" },
    direction,
  };
}

function conditions(filter: EventFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.fileUuid !== undefined) where.push(sql`file_uuid = ${filter.fileUuid}::uuid`);
  if (filter.kinds?.length) where.push(sql`kind = any(${sql.param(filter.kinds)}::text[])`);
  if (filter.sources?.length) where.push(sql`source = any(${sql.param(filter.sources)}::text[])`);
  if (filter.actor !== undefined) where.push(sql`actor = ${filter.actor}`);
  if (filter.from !== undefined) where.push(sql`observed_at >= ${filter.from}::timestamptz`);
  if (filter.to !== undefined) where.push(sql`observed_at < ${filter.to}::timestamptz`);
  return where;
}

function toEvent(row: EventRow): AuditEvent {
  return {
    projectKey: row.project_key,
    seq: Number(row.seq),
    fileUuid: row.file_uuid,
    kind: row.kind,
    before: row.before,
    after: row.after,
    occurredAt: row.occurred_at,
    observedAt: row.observed_at,
    source: row.source,
    runId: row.run_id,
    planId: row.plan_id,
    actor: row.actor,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export async function listEvents(
  db: Queryable,
  query: { filter: EventFilter; direction: SortDirection; after: KeysetPosition | null; limit: number },
): Promise<{ items: AuditEvent[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<EventRow & Record<string, unknown>>(db, {
    columns: COLUMNS,
    from: sql`file_events`,
    where: conditions(query.filter),
    order: eventOrder(query.direction),
    projects: query.filter.projects,
    after: query.after,
    limit: query.limit,
  });
  return { items: page.rows.map(toEvent), next: page.next };
}

export async function countEvents(db: Queryable, filter: EventFilter, mode: CountMode): Promise<Total> {
  return countRows(db, {
    from: sql`file_events`,
    where: [sql`project_key = any(${sql.param(filter.projects)}::text[])`, ...conditions(filter)],
    mode,
  });
}
