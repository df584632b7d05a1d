import { sql } from "drizzle-orm";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { canonicalTimestampOrNull, dateToTimestamp } from "../timestamps.ts";

/** One link between an original and a copy a version plan made of it. */
export interface FileVersion {
  projectKey: string;
  originalUuid: string;
  copyUuid: string;
  planId: string;
  /** CDN operations baked into the copy; "" for a plain copy. */
  operations: string;
  originalSize: number;
  copySize: number;
  createdAt: string;
}

/** A copy to record: the link without the project (given apart) or its recording time. */
export type NewFileVersion = Omit<FileVersion, "projectKey" | "createdAt">;

/** Records copies; one already recorded (a rerun) is left as it is. Answers the copies recorded now. */
export async function insertFileVersions(tx: Queryable, projectKey: string, rows: NewFileVersion[], now: Date): Promise<string[]> {
  if (rows.length === 0) return [];
  const values = JSON.stringify(
    rows.map((r) => ({ original_uuid: r.originalUuid, copy_uuid: r.copyUuid, plan_id: r.planId, operations: r.operations, original_size: r.originalSize, copy_size: r.copySize })),
  );
  const inserted = await queryRows<{ copy_uuid: string }>(
    tx,
    sql`insert into file_versions (project_key, copy_uuid, original_uuid, plan_id, operations, original_size, copy_size, created_at)
        select ${projectKey}, v.copy_uuid, v.original_uuid, v.plan_id, v.operations, v.original_size, v.copy_size, ${dateToTimestamp(now)}::timestamptz
        from jsonb_to_recordset(${values}::jsonb) as v(copy_uuid uuid, original_uuid uuid, plan_id uuid, operations text, original_size bigint, copy_size bigint)
        on conflict (project_key, copy_uuid) do nothing returning copy_uuid::text as copy_uuid`,
  );
  return inserted.map((r) => r.copy_uuid);
}

interface Row {
  project_key: string;
  original_uuid: string;
  copy_uuid: string;
  plan_id: string;
  operations: string;
  original_size: number | string;
  copy_size: number | string;
  created_at: string;
}

const toVersion = (r: Row): FileVersion => ({
  projectKey: r.project_key,
  originalUuid: r.original_uuid,
  copyUuid: r.copy_uuid,
  planId: r.plan_id,
  operations: r.operations,
  originalSize: Number(r.original_size),
  copySize: Number(r.copy_size),
  createdAt: canonicalTimestampOrNull(r.created_at)!,
});

/**
 * A file's versions, whichever side it is on: the copies made of it (it is
 * their original), and the original it is a copy of. Oldest first.
 */
export async function listFileVersions(db: Queryable, projectKey: string, uuid: string): Promise<{ copies: FileVersion[]; copyOf: FileVersion | null }> {
  const rows = await queryRows<Row>(
    db,
    sql`select project_key, original_uuid::text as original_uuid, copy_uuid::text as copy_uuid, plan_id::text as plan_id, operations,
               original_size, copy_size, created_at::text as created_at
        from file_versions
        where project_key = ${projectKey} and (original_uuid = ${uuid}::uuid or copy_uuid = ${uuid}::uuid)
        order by created_at, copy_uuid`,
  );
  const versions = rows.map(toVersion);
  const id = uuid.toLowerCase();
  return { copies: versions.filter((v) => v.originalUuid === id), copyOf: versions.find((v) => v.copyUuid === id) ?? null };
}
