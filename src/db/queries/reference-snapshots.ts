import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import type { ReferenceSnapshotKind } from "../schema/index.ts";
import { isoColumn } from "./iso.ts";
import { countRows, pageAcrossProjects, type CountMode, type KeysetOrder, type KeysetPosition, type Total } from "./keyset.ts";

/** Every write to a source's set, applied or refused: when, how big, what it added and removed. */

export interface SnapshotRecord {
  id: string;
  source: string;
  kind: ReferenceSnapshotKind;
  status: "applied" | "refused";
  takenAt: string;
  size: number;
  previousSize: number;
  added: number;
  removed: number;
  unresolved: number;
  unknownFiles: number;
  forced: boolean;
  actor: string;
  message: string | null;
}

export type SnapshotInput = Omit<SnapshotRecord, "id"> & { projectKey: string };

/** Records the write; an applied one also marks the source as reported. Answers the snapshot id. */
export async function recordSnapshot(tx: Queryable, input: SnapshotInput): Promise<string> {
  const id = randomUUID();
  await tx.execute(sql`insert into reference_snapshots (project_key, id, source, kind, status, taken_at, size, previous_size, added, removed, unresolved, unknown_files, forced, actor, message)
    values (${input.projectKey}, ${id}::uuid, ${input.source}, ${input.kind}, ${input.status}, ${input.takenAt}::timestamptz, ${input.size}, ${input.previousSize},
      ${input.added}, ${input.removed}, ${input.unresolved}, ${input.unknownFiles}, ${input.forced}, ${input.actor}, ${input.message})`);
  if (input.status === "applied") {
    await tx.execute(sql`update reference_sources set refs = ${input.size}, last_snapshot_id = ${id}::uuid, last_error = null,
        last_reported_at = ${input.takenAt}::timestamptz, first_reported_at = coalesce(first_reported_at, ${input.takenAt}::timestamptz)
      where project_key = ${input.projectKey} and source = ${input.source}`);
  }
  return id;
}

/** The snapshot columns of `reference_snapshots n`, as SnapshotRow. */
export const SNAPSHOT_COLUMNS = sql.raw(`n.id::text as id, n.source, n.kind, n.status, ${isoColumn("n.taken_at", "taken_at")}, n.size, n.previous_size, n.added, n.removed,
  n.unresolved, n.unknown_files, n.forced, n.actor, n.message`);

export interface SnapshotRow {
  id: string;
  source: string;
  kind: ReferenceSnapshotKind;
  status: "applied" | "refused";
  taken_at: string;
  size: number;
  previous_size: number;
  added: number;
  removed: number;
  unresolved: number;
  unknown_files: number;
  forced: boolean;
  actor: string;
  message: string | null;
}

export function toSnapshot(r: SnapshotRow): SnapshotRecord {
  return {
    id: r.id,
    source: r.source,
    kind: r.kind,
    status: r.status,
    takenAt: r.taken_at,
    size: r.size,
    previousSize: r.previous_size,
    added: r.added,
    removed: r.removed,
    unresolved: r.unresolved,
    unknownFiles: r.unknown_files,
    forced: r.forced,
    actor: r.actor,
    message: r.message,
  };
}

/** Snapshots of one source, newest first, keyset-paged. */
export const SNAPSHOT_ORDER: KeysetOrder = {
  lead: [{ expr: sql`n.taken_at`, cast: "timestamptz", field: "taken_at" }],
  tie: { expr: sql`n.id`, cast: "uuid", field: "id" },
  direction: "desc",
};

export async function listSnapshots(
  db: Queryable,
  input: { projectKey: string; source: string; after: KeysetPosition | null; limit: number },
): Promise<{ items: SnapshotRecord[]; next: KeysetPosition | null }> {
  const page = await pageAcrossProjects<SnapshotRow & Record<string, unknown>>(db, {
    columns: sql`n.project_key, ${SNAPSHOT_COLUMNS}`,
    from: sql`reference_snapshots n`,
    where: [sql`n.source = ${input.source}`],
    order: SNAPSHOT_ORDER,
    projects: [input.projectKey],
    after: input.after,
    limit: input.limit,
  });
  return { items: page.rows.map(toSnapshot), next: page.next };
}

export async function countSnapshots(db: Queryable, projectKey: string, source: string, mode: CountMode): Promise<Total> {
  return countRows(db, { from: sql`reference_snapshots n`, where: [sql`n.project_key = ${projectKey}`, sql`n.source = ${source}`], mode });
}
