import { sql } from "drizzle-orm";
import type { Db, Queryable } from "../../db/client.ts";
import { queryRows } from "../../db/query.ts";
import { dateToTimestamp } from "../../db/timestamps.ts";
import { toFileRecord } from "../files/file-record.ts";
import { writeFiles } from "../files/write-files.ts";
import type { LaneRun } from "../files/lane-deps.ts";
import { WebhookDelivery } from "./receive.ts";

/** Deliveries applied per round trip. */
const INBOX_BATCH = 200;

interface InboxRow {
  body_sha256: string;
  body: unknown;
}

/**
 * Applies stored deliveries in the order they arrived, each in its own
 * transaction with its inbox mark. Idempotent: an applied delivery is never
 * applied again, and a snapshot older than the ledger's copy changes nothing.
 */
export async function applyWebhookInbox(
  deps: { db: Db; now: () => Date; fence?: (tx: Queryable) => Promise<void> },
  projectKey: string,
  run: LaneRun,
): Promise<void> {
  for (;;) {
    const rows = await queryRows<InboxRow>(
      deps.db,
      sql`select body_sha256, body from webhook_inbox
          where project_key = ${projectKey} and applied_at is null
          order by received_at, body_sha256 limit ${INBOX_BATCH}`,
    );
    for (const row of rows) {
      const delivery = WebhookDelivery.parse(row.body);
      const record = toFileRecord(delivery.data);
      const counts = await writeFiles(
        deps.db,
        {
          projectKey,
          source: "webhook",
          runId: run.runId,
          actor: `uploadcare:${delivery.initiator?.type ?? "unknown"}`,
          now: deps.now,
          fence: deps.fence,
        },
        [record],
        async (tx, result) => {
          const outcome = result.stale > 0 ? "stale" : result.inserted + result.changed > 0 ? "applied" : "unchanged";
          await tx.execute(sql`
            update webhook_inbox set applied_at = ${dateToTimestamp(deps.now())}::timestamptz, outcome = ${outcome}
            where project_key = ${projectKey} and body_sha256 = ${row.body_sha256}`);
        },
      );
      run.counts.seen += 1;
      run.counts.inserted += counts.inserted;
      run.counts.changed += counts.changed;
    }
    if (rows.length > 0) run.counts.pages += 1;
    if (rows.length < INBOX_BATCH) return;
  }
}
