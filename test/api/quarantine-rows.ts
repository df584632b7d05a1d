import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "../../src/db/client.ts";

/** A `file_quarantine` row as the sync would write it, inserted directly (the sync's own tests cover writing them). */
export interface QuarantineSeed {
  projectKey: string;
  raw: string;
  fileUuid?: string | null;
  source?: "list" | "file_info" | "webhook";
  disposition?: "set_aside" | "stored_escaped";
  reason?: string;
  runId?: string | null;
  firstSeenAt?: string;
  lastSeenAt: string;
}

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export async function insertQuarantine(db: Db, rows: QuarantineSeed[]): Promise<void> {
  for (const projectKey of new Set(rows.map((r) => r.projectKey))) {
    await db.execute(sql`insert into projects (project_key, name) values (${projectKey}, ${projectKey}) on conflict do nothing`);
  }
  for (const r of rows) {
    await db.execute(sql`insert into file_quarantine (project_key, raw_sha256, file_uuid, source, disposition, reason, raw, run_id, first_seen_at, last_seen_at)
      values (${r.projectKey}, ${sha256(r.raw)}, ${r.fileUuid ?? null}::uuid, ${r.source ?? "list"}, ${r.disposition ?? "set_aside"},
        ${r.reason ?? "a NUL in original_filename"}, ${r.raw}, ${r.runId ?? null}, ${r.firstSeenAt ?? r.lastSeenAt}::timestamptz, ${r.lastSeenAt}::timestamptz)`);
  }
}
