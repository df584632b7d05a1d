import { sql } from "drizzle-orm";
import type { Queryable, Tx } from "../client.ts";
import { execute, queryRows } from "../query.ts";
import type { ReferenceSourceKind } from "../schema/index.ts";
import { isoColumn } from "./iso.ts";
import { fileReferenceStatus } from "./reference-status.ts";
import { SNAPSHOT_COLUMNS, toSnapshot, type SnapshotRecord, type SnapshotRow } from "./reference-snapshots.ts";

/**
 * Reads and writes of reference sets. Every write to a project's references
 * runs under one transaction-scoped advisory lock per project, so a file's
 * "referenced" flips in exactly one transaction and the moment is exact.
 */

/** Advisory-lock namespace of reference writes ("ucrf"). */
const REFERENCE_LOCK_NAMESPACE = 0x75637266;

export async function lockProjectReferences(tx: Tx, projectKey: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${REFERENCE_LOCK_NAMESPACE}::int, hashtext(${projectKey}))`);
}

export interface SourceSpec {
  projectKey: string;
  source: string;
  kind: ReferenceSourceKind;
  staleAfterHours: number;
}

/** The source's row, created if new; its kind and interval follow the configuration. Answers the current kind. */
export async function ensureSource(db: Queryable, spec: SourceSpec, now: string): Promise<{ kind: ReferenceSourceKind; created: boolean }> {
  const [existing] = await queryRows<{ kind: ReferenceSourceKind }>(
    db,
    sql`select kind from reference_sources where project_key = ${spec.projectKey} and source = ${spec.source}`,
  );
  if (existing) {
    if (existing.kind === spec.kind) {
      await db.execute(sql`update reference_sources set stale_after_hours = ${spec.staleAfterHours}
        where project_key = ${spec.projectKey} and source = ${spec.source} and stale_after_hours <> ${spec.staleAfterHours}`);
    }
    return { kind: existing.kind, created: false };
  }
  await db.execute(sql`insert into reference_sources (project_key, source, kind, stale_after_hours, created_at)
    values (${spec.projectKey}, ${spec.source}, ${spec.kind}, ${spec.staleAfterHours}, ${now}::timestamptz) on conflict do nothing`);
  return { kind: spec.kind, created: true };
}

export interface StagedReference {
  ref: string;
  uuid: string;
  value: string;
}

/** One batch of an incoming set. A (ref, file) pair sent twice is kept once, with its first value. */
export async function stageReferences(db: Queryable, input: { projectKey: string; uploadId: string; rows: StagedReference[]; now: string }): Promise<void> {
  if (input.rows.length === 0) return;
  // Three arrays, not one JSON document: about twice as fast to send and unpack.
  await db.execute(sql`insert into reference_staging (project_key, upload_id, file_uuid, ref, value, staged_at)
    select ${input.projectKey}, ${input.uploadId}::uuid, r.uuid, r.ref, r.value, ${input.now}::timestamptz
    from unnest(${sql.param(input.rows.map((r) => r.ref))}::text[], ${sql.param(input.rows.map((r) => r.uuid))}::uuid[],
                ${sql.param(input.rows.map((r) => r.value))}::text[]) as r(ref, uuid, value)
    on conflict do nothing`);
}

export async function dropStaged(db: Queryable, projectKey: string, uploadId: string): Promise<void> {
  await db.execute(sql`delete from reference_staging where project_key = ${projectKey} and upload_id = ${uploadId}::uuid`);
}

/** Leftovers of uploads that never finished (the process died mid-body). */
export async function dropAbandonedStaging(db: Queryable, before: string): Promise<number> {
  return execute(db, sql`delete from reference_staging where staged_at < ${before}::timestamptz`);
}

export interface ReplacementDiff {
  previousSize: number;
  size: number;
  added: number;
  removed: number;
  unknownFiles: number;
}

/**
 * Whole-set comparisons as hash joins. Fresh tables have no statistics (PGlite
 * never autovacuums; a new source's set was empty at the last ANALYZE), and
 * the planner then probes an index per row on only part of its key: inserting
 * 10,000 references took 12 s that way, 60 ms hashed. Transaction-local.
 */
export async function compareWholeSets(tx: Tx, on: boolean): Promise<void> {
  await tx.execute(sql.raw(`set local enable_nestloop = ${on ? "off" : "on"}`));
}

/** How the staged set differs from the source's current one. Run under the project lock. */
export async function diffStaged(tx: Queryable, input: { projectKey: string; source: string; uploadId: string }): Promise<ReplacementDiff> {
  const { projectKey: p, source: s, uploadId: u } = input;
  const [row] = await queryRows<{ previous_size: number; size: number; added: number; removed: number; unknown_files: number }>(
    tx,
    sql`select
      (select count(*)::int from file_references r where r.project_key = ${p} and r.source = ${s}) as previous_size,
      (select count(*)::int from reference_staging st where st.project_key = ${p} and st.upload_id = ${u}::uuid) as size,
      (select count(*)::int from reference_staging st where st.project_key = ${p} and st.upload_id = ${u}::uuid
         and not exists (select 1 from file_references r where r.project_key = ${p} and r.source = ${s} and r.ref = st.ref and r.file_uuid = st.file_uuid)) as added,
      (select count(*)::int from file_references r where r.project_key = ${p} and r.source = ${s}
         and not exists (select 1 from reference_staging st where st.project_key = ${p} and st.upload_id = ${u}::uuid and st.file_uuid = r.file_uuid and st.ref = r.ref)) as removed,
      (select count(*)::int from reference_staging st where st.project_key = ${p} and st.upload_id = ${u}::uuid
         and not exists (select 1 from files f where f.project_key = ${p} and f.uuid = st.file_uuid)) as unknown_files`,
  );
  return { previousSize: row!.previous_size, size: row!.size, added: row!.added, removed: row!.removed, unknownFiles: row!.unknown_files };
}

/** Makes the source's set equal to the staged one; answers the files whose pairs changed. */
export async function applyStaged(tx: Queryable, input: { projectKey: string; source: string; uploadId: string; now: string }): Promise<string[]> {
  const { projectKey: p, source: s, uploadId: u } = input;
  const removed = await queryRows<{ file_uuid: string }>(
    tx,
    sql`delete from file_references r where r.project_key = ${p} and r.source = ${s}
      and not exists (select 1 from reference_staging st where st.project_key = ${p} and st.upload_id = ${u}::uuid and st.file_uuid = r.file_uuid and st.ref = r.ref)
      returning r.file_uuid::text as file_uuid`,
  );
  const added = await queryRows<{ file_uuid: string }>(
    tx,
    sql`insert into file_references (project_key, source, ref, file_uuid, value, added_at)
      select ${p}, ${s}, st.ref, st.file_uuid, st.value, ${input.now}::timestamptz from reference_staging st
      where st.project_key = ${p} and st.upload_id = ${u}::uuid
        and not exists (select 1 from file_references r where r.project_key = ${p} and r.source = ${s} and r.ref = st.ref and r.file_uuid = st.file_uuid)
      returning file_uuid::text as file_uuid`,
  );
  return [...new Set([...removed, ...added].map((r) => r.file_uuid))];
}

/** Adds one pair; answers whether it was new. */
export async function insertReference(tx: Queryable, input: { projectKey: string; source: string; ref: string; uuid: string; value: string; now: string }): Promise<boolean> {
  const rows = await queryRows(
    tx,
    sql`insert into file_references (project_key, source, ref, file_uuid, value, added_at)
      values (${input.projectKey}, ${input.source}, ${input.ref}, ${input.uuid}::uuid, ${input.value}, ${input.now}::timestamptz)
      on conflict do nothing returning 1`,
  );
  return rows.length > 0;
}

/** Removes a ref's pair with that file, or every pair of the ref when no file is given; answers the files. */
export async function deleteReference(tx: Queryable, input: { projectKey: string; source: string; ref: string; uuid: string | null }): Promise<string[]> {
  const rows = await queryRows<{ file_uuid: string }>(
    tx,
    sql`delete from file_references where project_key = ${input.projectKey} and source = ${input.source} and ref = ${input.ref}
      ${input.uuid === null ? sql`` : sql`and file_uuid = ${input.uuid}::uuid`}
      returning file_uuid::text as file_uuid`,
  );
  return [...new Set(rows.map((r) => r.file_uuid))];
}

/**
 * Brings `file_reference_state` in line with `file_references` for these
 * files, after their pairs changed in this transaction: a file that gained
 * its first reference is referenced from `now`, one that lost its last is
 * unreferenced from `now`; rows whose answer did not change are not touched.
 */
export async function refreshFileStates(tx: Queryable, input: { projectKey: string; uuids: string[]; now: string }): Promise<{ nowReferenced: number; nowUnreferenced: number }> {
  if (input.uuids.length === 0) return { nowReferenced: 0, nowUnreferenced: 0 };
  const { projectKey: p, now } = input;
  const rows = await queryRows<{ referenced: boolean }>(
    tx,
    sql`with n as (
        select u as file_uuid, exists (select 1 from file_references r where r.project_key = ${p} and r.file_uuid = u) as referenced
        from unnest(${sql.param(input.uuids)}::uuid[]) as u
      )
      insert into file_reference_state as s (project_key, file_uuid, referenced, referenced_since, unreferenced_since)
      select ${p}, n.file_uuid, n.referenced, case when n.referenced then ${now}::timestamptz end, case when not n.referenced then ${now}::timestamptz end
      from n order by n.file_uuid
      on conflict (project_key, file_uuid) do update set
        referenced = excluded.referenced,
        referenced_since = case when excluded.referenced then ${now}::timestamptz else s.referenced_since end,
        unreferenced_since = case when excluded.referenced then null else ${now}::timestamptz end
      where s.referenced is distinct from excluded.referenced
      returning s.referenced`,
  );
  return { nowReferenced: rows.filter((r) => r.referenced).length, nowUnreferenced: rows.filter((r) => !r.referenced).length };
}

export async function sourceSize(db: Queryable, projectKey: string, source: string): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from file_references where project_key = ${projectKey} and source = ${source}`);
  return row?.n ?? 0;
}

/** Why the last pull failed, kept on the source for `GET /v1/references`. */
export async function recordSourceError(db: Queryable, projectKey: string, source: string, error: string): Promise<void> {
  await db.execute(sql`update reference_sources set last_error = ${error} where project_key = ${projectKey} and source = ${source}`);
}

export interface SourceStatus {
  projectKey: string;
  source: string;
  kind: ReferenceSourceKind;
  staleAfterHours: number;
  stale: boolean;
  refs: number;
  firstReportedAt: string | null;
  lastReportedAt: string | null;
  lastError: string | null;
  lastSnapshot: SnapshotRecord | null;
}

/** Every source of these projects with its status at `at`, and its latest snapshot. */
export async function listSources(db: Queryable, projects: string[], at: string): Promise<SourceStatus[]> {
  const rows = await queryRows<SnapshotRow & {
    project_key: string;
    src: string;
    src_kind: ReferenceSourceKind;
    stale_after_hours: number;
    stale: boolean;
    refs: number;
    first_reported_at: string | null;
    last_reported_at: string | null;
    last_error: string | null;
  }>(
    db,
    sql`select s.project_key, s.source as src, s.kind as src_kind, s.stale_after_hours, s.refs, s.last_error,
        ${sql.raw(isoColumn("s.first_reported_at", "first_reported_at"))}, ${sql.raw(isoColumn("s.last_reported_at", "last_reported_at"))},
        (s.last_reported_at is null or s.last_reported_at < ${at}::timestamptz - s.stale_after_hours * interval '1 hour') as stale,
        ${SNAPSHOT_COLUMNS}
      from reference_sources s
      left join lateral (select * from reference_snapshots x where x.project_key = s.project_key and x.source = s.source
        order by x.taken_at desc, x.id desc limit 1) n on true
      where s.project_key = any(${sql.param(projects)}::text[])
      order by s.project_key collate "C", s.source collate "C"`,
  );
  return rows.map((r) => ({
    projectKey: r.project_key,
    source: r.src,
    kind: r.src_kind,
    staleAfterHours: r.stale_after_hours,
    stale: r.stale,
    refs: r.refs,
    firstReportedAt: r.first_reported_at,
    lastReportedAt: r.last_reported_at,
    lastError: r.last_error,
    lastSnapshot: r.id ? toSnapshot(r) : null,
  }));
}

export async function fileInLedger(db: Queryable, projectKey: string, uuid: string): Promise<boolean> {
  const rows = await queryRows(db, sql`select 1 from files where project_key = ${projectKey} and uuid = ${uuid}::uuid`);
  return rows.length > 0;
}

export async function sourceExists(db: Queryable, projectKey: string, source: string): Promise<boolean> {
  const rows = await queryRows(db, sql`select 1 from reference_sources where project_key = ${projectKey} and source = ${source}`);
  return rows.length > 0;
}

export interface FileReferences {
  projectKey: string;
  uuid: string;
  /** Null while the project has no reference source. */
  referenced: boolean | null;
  unreferencedSince: string | null;
  /** Referenced now: the latest report of a source that holds it; else when its last reference went away. */
  lastReferencedAt: string | null;
  /** True when only a stale source's silence keeps the file referenced. */
  heldByStaleSource: boolean;
  references: { source: string; ref: string; value: string; addedAt: string; sourceStale: boolean; sourceLastReportedAt: string | null }[];
}

/** A file's references and status at `at`. */
export async function referencesOfFile(db: Queryable, input: { projectKey: string; uuid: string; at: string }): Promise<FileReferences> {
  const at = sql`${input.at}::timestamptz`;
  const [status] = await queryRows<{ is_referenced: boolean | null; unreferenced_since: string | null; held_by_stale: boolean | null }>(
    db,
    sql`select st.is_referenced, ${sql.raw(isoColumn("st.unreferenced_since", "unreferenced_since"))}, st.held_by_stale
      from files f join lateral (${fileReferenceStatus("f", at)}) st on true
      where f.project_key = ${input.projectKey} and f.uuid = ${input.uuid}::uuid`,
  );
  const refs = await queryRows<{ source: string; ref: string; value: string; added_at: string; stale: boolean; last_reported_at: string | null }>(
    db,
    sql`select r.source, r.ref, r.value, ${sql.raw(isoColumn("r.added_at", "added_at"))},
        (s.last_reported_at is null or s.last_reported_at < ${at} - s.stale_after_hours * interval '1 hour') as stale,
        ${sql.raw(isoColumn("s.last_reported_at", "last_reported_at"))}
      from file_references r join reference_sources s on s.project_key = r.project_key and s.source = r.source
      where r.project_key = ${input.projectKey} and r.file_uuid = ${input.uuid}::uuid
      order by r.source collate "C", r.ref collate "C"
      limit 1000`,
  );
  // The moment its last reference went away, for a file that had one.
  const [lost] = await queryRows<{ unreferenced_since: string | null }>(
    db,
    sql`select ${sql.raw(isoColumn("s.unreferenced_since", "unreferenced_since"))} from file_reference_state s
      where s.project_key = ${input.projectKey} and s.file_uuid = ${input.uuid}::uuid and not s.referenced`,
  );
  const referenced = status?.is_referenced ?? null;
  const lastReport = refs.map((r) => r.last_reported_at).filter((t): t is string => t !== null).sort().at(-1) ?? null;
  return {
    projectKey: input.projectKey,
    uuid: input.uuid,
    referenced,
    unreferencedSince: status?.unreferenced_since ?? null,
    lastReferencedAt: refs.length > 0 ? lastReport : (lost?.unreferenced_since ?? null),
    heldByStaleSource: status?.held_by_stale ?? false,
    references: refs.map((r) => ({ source: r.source, ref: r.ref, value: r.value, addedAt: r.added_at, sourceStale: r.stale, sourceLastReportedAt: r.last_reported_at })),
  };
}
