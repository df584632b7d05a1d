import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client.ts";
import { execute } from "../db/query.ts";
import type { PlanItemStatus } from "../db/schema/index.ts";
import { dateToTimestamp } from "../db/timestamps.ts";

export interface ItemChange {
  fileUuid: string;
  status: PlanItemStatus;
  reason?: string | null | undefined;
  copyUrl?: string | undefined;
  /** Version plans: the copy and its bytes. */
  copyUuid?: string | undefined;
  copySize?: number | undefined;
}

const TERMINAL: PlanItemStatus[] = ["done", "skipped", "failed"];

/**
 * Moves items to a new status, only from the statuses given: an item that is
 * no longer where the caller thinks it is stays as it is. `sending` and
 * `copying` stamp `sent_at` and the batch; final statuses stamp `finished_at`.
 */
export async function setItems(
  tx: Queryable,
  target: { projectKey: string; planId: string },
  from: PlanItemStatus[],
  changes: ItemChange[],
  options: { now: Date; batch?: number },
): Promise<number> {
  if (changes.length === 0) return 0;
  const at = dateToTimestamp(options.now);
  const rows = JSON.stringify(
    changes.map((c) => ({
      file_uuid: c.fileUuid,
      status: c.status,
      reason: c.reason ?? null,
      copy_url: c.copyUrl ?? null,
      copy_uuid: c.copyUuid ?? null,
      copy_size: c.copySize ?? null,
      started: c.status === "sending" || c.status === "copying",
      terminal: TERMINAL.includes(c.status),
    })),
  );
  return execute(
    tx,
    sql`update plan_items i set
          status = v.status,
          reason = v.reason,
          copy_url = coalesce(v.copy_url, i.copy_url),
          copy_uuid = coalesce(v.copy_uuid, i.copy_uuid),
          copy_size = coalesce(v.copy_size, i.copy_size),
          batch = case when v.started then ${options.batch ?? null}::int else i.batch end,
          sent_at = case when v.started then ${at}::timestamptz else i.sent_at end,
          finished_at = case when v.terminal then ${at}::timestamptz else null end,
          updated_at = ${at}::timestamptz
        from jsonb_to_recordset(${rows}::jsonb) as v(file_uuid uuid, status text, reason text, copy_url text, copy_uuid uuid, copy_size bigint, started boolean, terminal boolean)
        where i.project_key = ${target.projectKey} and i.plan_id = ${target.planId}::uuid and i.file_uuid = v.file_uuid
          and i.status = any(${sql.param(from)}::text[])`,
  );
}
