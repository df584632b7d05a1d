import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { toEpochMicros } from "../db/timestamps.ts";

/**
 * Request records that the user's own applications report (Uploadcare has no
 * endpoint for a project's request logs). One JSON object per line.
 */
export const ReportedRequest = z.strictObject({
  ts: z.string().refine((v) => {
    try {
      toEpochMicros(v);
      return true;
    } catch {
      return false;
    }
  }, "must be an ISO 8601 timestamp"),
  method: z.string().regex(/^[A-Za-z]{1,10}$/, "must be an HTTP method").transform((m) => m.toUpperCase()),
  path: z.string().min(1, "must not be empty").max(2000, "must be at most 2000 characters").startsWith("/", "must start with /"),
  status: z.number().int().min(100, "must be an HTTP status from 100 to 599").max(599, "must be an HTTP status from 100 to 599").nullable(),
  duration_ms: z.number().int("must be a whole number of milliseconds").nonnegative("must not be negative").max(86_400_000, "must be at most a day"),
  api: z.enum(["rest", "upload"], { message: "must be rest or upload" }),
  source: z.string().min(1, "must not be empty").max(100, "must be at most 100 characters"),
});
export type ReportedRequest = z.infer<typeof ReportedRequest>;

export interface IngestResult {
  accepted: number;
  rejected: number;
  /** One entry per rejected line (1-based line numbers), at most `MAX_REASONS`. */
  errors: { line: number; reason: string }[];
  errorsTruncated: boolean;
}

const MAX_REASONS = 1_000;
/** Rows per insert statement. */
const INSERT_BATCH = 2_000;

function reasonFor(text: string): { ok: true; value: ReportedRequest } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: "not valid JSON" };
  }
  const parsed = ReportedRequest.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String).join(".");
  return { ok: false, reason: path ? `${path}: ${issue.message}` : issue.message };
}

/** Validates every line, stores the good ones, and says why each bad one was refused. */
export async function ingestReportedRequests(db: Db, projectKey: string, body: string): Promise<IngestResult> {
  const result: IngestResult = { accepted: 0, rejected: 0, errors: [], errorsTruncated: false };
  let batch: ReportedRequest[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch.map((r) => ({ ...r, id: randomUUID() }));
    await db.execute(sql`
      insert into api_requests (project_key, id, requested_at, source, api, method, path, status, duration_ms, attempt)
      select ${projectKey}, r.id, r.ts, r.source, r.api, r.method, r.path, r.status, r.duration_ms, 1
      from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
        as r(id uuid, ts timestamptz, source text, api text, method text, path text, status int, duration_ms int)`);
    result.accepted += batch.length;
    batch = [];
  };
  const lines = body.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (text === "") continue;
    const checked = reasonFor(text);
    if (checked.ok) {
      batch.push(checked.value);
      if (batch.length >= INSERT_BATCH) await flush();
    } else {
      result.rejected += 1;
      if (result.errors.length < MAX_REASONS) result.errors.push({ line: i + 1, reason: checked.reason });
      else result.errorsTruncated = true;
    }
  }
  await flush();
  return result;
}
