import { sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { dateToTimestamp } from "../../db/timestamps.ts";
import type { QuarantineEntry } from "./admit.ts";

/**
 * Keeps quarantine entries in the page's own transaction: one row per distinct
 * raw text, so reading the same bad file on every run adds nothing but the time
 * it was last seen (which tells whether Uploadcare still sends it).
 */
export async function recordQuarantine(
  tx: Queryable,
  projectKey: string,
  entries: QuarantineEntry[],
  at: { runId: string | null; now: Date },
): Promise<void> {
  if (entries.length === 0) return;
  const now = dateToTimestamp(at.now);
  const rows = JSON.stringify(
    entries.map((e) => ({ sha: e.rawSha256, uuid: e.fileUuid, source: e.source, disposition: e.disposition, reason: e.reason, raw: e.raw })),
  );
  await tx.execute(sql`
    insert into file_quarantine (project_key, raw_sha256, file_uuid, source, disposition, reason, raw, run_id, first_seen_at, last_seen_at)
    select ${projectKey}, q.sha, q.uuid, q.source, q.disposition, q.reason, q.raw, ${at.runId}, ${now}::timestamptz, ${now}::timestamptz
    from jsonb_to_recordset(${rows}::jsonb) as q(sha text, uuid uuid, source text, disposition text, reason text, raw text)
    on conflict (project_key, raw_sha256) do update set last_seen_at = excluded.last_seen_at, run_id = excluded.run_id`);
}
