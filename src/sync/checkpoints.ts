import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { queryRows } from "../db/query.ts";
import { dateToTimestamp } from "../db/timestamps.ts";

export interface CheckpointKey {
  projectKey: string;
  stream: string;
  lane: string;
}

export async function readCheckpoint<T extends Record<string, unknown>>(db: Queryable, key: CheckpointKey): Promise<T | null> {
  const [row] = await queryRows<{ cursor: T }>(
    db,
    sql`select cursor from sync_checkpoints where project_key = ${key.projectKey} and stream = ${key.stream} and lane = ${key.lane}`,
  );
  return row?.cursor ?? null;
}

/** Called inside the page's transaction, so the cursor moves exactly when the page's rows commit. */
export async function writeCheckpoint(tx: Queryable, key: CheckpointKey, cursor: Record<string, unknown>, now: Date): Promise<void> {
  await tx.execute(sql`
    insert into sync_checkpoints (project_key, stream, lane, cursor, updated_at)
    values (${key.projectKey}, ${key.stream}, ${key.lane}, ${JSON.stringify(cursor)}::jsonb, ${dateToTimestamp(now)}::timestamptz)
    on conflict (project_key, stream, lane) do update set cursor = excluded.cursor, updated_at = excluded.updated_at`);
}
