import { createHash, randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { exactTimestamp } from "../db/queries/keyset.ts";
import { queryRows } from "../db/query.ts";
import { toEpochMicros } from "../db/timestamps.ts";
import { ConflictError, ValidationError } from "../errors.ts";

/**
 * Request records that the user's own applications report (Uploadcare has no
 * endpoint for a project's request logs). One JSON object per line.
 *
 * A batch is all-or-nothing for its good lines: they and the batch's row in
 * `api_log_batches` commit in one transaction, so a client that saw no answer
 * can send the batch again. The retry (same body, or the same Idempotency-Key)
 * adds nothing and gets the first answer back.
 */

/** Every string must be one PostgreSQL text holds: no NUL, no unpaired UTF-16 surrogate. */
const LONE_SURROGATE = /\p{Cs}/u;
const storable = (schema: z.ZodString) =>
  schema
    .refine((s) => !s.includes("\u0000"), "must not contain NUL characters")
    .refine((s) => !LONE_SURROGATE.test(s), "must not contain unpaired surrogates (\\ud800–\\udfff)");

function timestampProblem(value: string): string {
  if (value.length > 40) return "must be an ISO 8601 timestamp of at most 40 characters";
  try {
    toEpochMicros(value);
  } catch (err) {
    return /not a valid date/.test((err as Error).message)
      ? "names a day or time that does not exist"
      : "must be an ISO 8601 timestamp";
  }
  return "must fall between 1900 and 9999, with a zone offset of at most ±15:59";
}

export const ReportedRequest = z.strictObject({
  ts: z.string().transform((value, ctx) => {
    const canonical = exactTimestamp(value);
    if (canonical !== null) return canonical;
    ctx.addIssue({ code: "custom", message: timestampProblem(value) });
    return z.NEVER;
  }),
  method: z.string().regex(/^[A-Za-z]{1,10}$/, "must be an HTTP method").transform((m) => m.toUpperCase()),
  path: storable(z.string().min(1, "must not be empty").max(2000, "must be at most 2000 characters").startsWith("/", "must start with /")),
  status: z.number().int().min(100, "must be an HTTP status from 100 to 599").max(599, "must be an HTTP status from 100 to 599").nullable(),
  duration_ms: z.number().int("must be a whole number of milliseconds").nonnegative("must not be negative").max(86_400_000, "must be at most a day"),
  api: z.enum(["rest", "upload"], { message: "must be rest or upload" }),
  source: storable(z.string().min(1, "must not be empty").max(100, "must be at most 100 characters")),
});
export type ReportedRequest = z.infer<typeof ReportedRequest>;

const FIELDS = Object.keys(ReportedRequest.shape);

export interface LineError {
  /** 1-based. */
  line: number;
  /** The field at fault; null when the line as a whole is (not JSON, not an object). */
  field: string | null;
  /** `field: why`, or just why. */
  reason: string;
}

export interface IngestResult {
  accepted: number;
  rejected: number;
  /** One entry per rejected line, at most `MAX_REASONS`. */
  errors: LineError[];
  errorsTruncated: boolean;
}

export interface IngestOutcome {
  result: IngestResult;
  /** True when this body (or Idempotency-Key) was ingested before: nothing was added. */
  replayed: boolean;
}

const MAX_REASONS = 1_000;
/** Rows per insert statement (8 columns in one jsonb parameter, far under the bind limit). */
const INSERT_BATCH = 2_000;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A key the client sent, quoted as escaped ASCII: reasons are stored as jsonb, which holds no NUL or lone surrogate. */
const quoted = (key: string) => JSON.stringify(key.length > 50 ? `${key.slice(0, 50)}…` : key).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

function checkLine(bytes: Uint8Array): { ok: true; value: ReportedRequest } | { ok: false; field: string | null; why: string } {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    return { ok: false, field: null, why: err instanceof TypeError ? "not valid UTF-8" : "not valid JSON" };
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) return { ok: false, field: null, why: "must be a JSON object" };
  const unknown = Object.keys(json).find((k) => !FIELDS.includes(k));
  if (unknown !== undefined) return { ok: false, field: null, why: `${quoted(unknown)} is not a field of a request record (${FIELDS.join(", ")})` };
  const parsed = ReportedRequest.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.map(String).join(".") : null;
  const missing = field !== null && (json as Record<string, unknown>)[field] === undefined;
  return { ok: false, field, why: missing ? "is required" : issue.message };
}

/** The body's lines, split on LF as bytes so each line's UTF-8 is checked on its own. */
function* linesOf(body: Uint8Array): Generator<{ number: number; bytes: Uint8Array }> {
  let start = 0;
  for (let number = 1; start <= body.length; number++) {
    const end = body.indexOf(10, start);
    const stop = end === -1 ? body.length : end;
    yield { number, bytes: body.subarray(start, stop) };
    start = stop + 1;
  }
}

const isBlank = (bytes: Uint8Array) => bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0d);

/** Checks every line; nothing is written. */
export function checkBatch(body: Uint8Array): { result: IngestResult; good: ReportedRequest[] } {
  const result: IngestResult = { accepted: 0, rejected: 0, errors: [], errorsTruncated: false };
  const good: ReportedRequest[] = [];
  let lines = 0;
  for (const { number, bytes } of linesOf(body)) {
    if (isBlank(bytes)) continue;
    lines += 1;
    const checked = checkLine(bytes);
    if (checked.ok) {
      good.push(checked.value);
      continue;
    }
    result.rejected += 1;
    if (result.errors.length < MAX_REASONS) {
      result.errors.push({ line: number, field: checked.field, reason: checked.field ? `${checked.field}: ${checked.why}` : checked.why });
    } else {
      result.errorsTruncated = true;
    }
  }
  if (lines === 0) throw new ValidationError("body: no lines");
  result.accepted = good.length;
  return { result, good };
}

interface BatchRow {
  body_sha256: string;
  idempotency_key: string | null;
  result: IngestResult | string;
}

/** The earlier batch this one repeats, or a 409 when its Idempotency-Key came with another body. */
async function earlierBatch(db: Db, projectKey: string, sha: string, key: string | null): Promise<IngestResult | null> {
  const rows = await queryRows<BatchRow>(
    db,
    sql`select body_sha256, idempotency_key, result from api_log_batches
        where project_key = ${projectKey} and (body_sha256 = ${sha} or idempotency_key = ${key})`,
  );
  if (key !== null && rows.some((r) => r.idempotency_key === key && r.body_sha256 !== sha)) {
    throw new ConflictError("Idempotency-Key: already used for a batch with a different body; use a new key for a new batch");
  }
  const same = rows.find((r) => r.body_sha256 === sha);
  if (!same) return null;
  return typeof same.result === "string" ? (JSON.parse(same.result) as IngestResult) : same.result;
}

/**
 * Validates every line, stores the good ones and the batch's record in one
 * transaction, and says why each bad line was refused. A batch seen before
 * (same body, or same Idempotency-Key and body) stores nothing and answers as
 * the first time.
 */
export async function ingestReportedRequests(
  db: Db,
  input: { projectKey: string; body: Uint8Array; idempotencyKey?: string | undefined; now: Date },
): Promise<IngestOutcome> {
  const { projectKey } = input;
  const key = input.idempotencyKey ?? null;
  const sha = createHash("sha256").update(input.body).digest("hex");

  const earlier = await earlierBatch(db, projectKey, sha, key);
  if (earlier) return { result: earlier, replayed: true };

  const { result, good } = checkBatch(input.body);
  const stored = await db.transaction(async (tx) => {
    // The batch's row first: a concurrent twin waits here on the unique index
    // until this transaction ends, then finds the row and writes nothing.
    const claimed = await queryRows(
      tx,
      sql`insert into api_log_batches (project_key, body_sha256, idempotency_key, received_at, result)
          values (${projectKey}, ${sha}, ${key}, ${input.now.toISOString()}::timestamptz, ${JSON.stringify(result)}::jsonb)
          on conflict do nothing returning 1`,
    );
    if (claimed.length === 0) return false;
    for (let i = 0; i < good.length; i += INSERT_BATCH) {
      const rows = good.slice(i, i + INSERT_BATCH).map((r) => ({ ...r, id: randomUUID() }));
      await tx.execute(sql`
        insert into api_requests (project_key, id, requested_at, source, api, method, path, status, duration_ms, attempt)
        select ${projectKey}, r.id, r.ts, r.source, r.api, r.method, r.path, r.status, r.duration_ms, 1
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
          as r(id uuid, ts timestamptz, source text, api text, method text, path text, status int, duration_ms int)`);
    }
    return true;
  });
  if (stored) return { result, replayed: false };

  // Lost the race to an identical batch (or one with the same key): answer as it did.
  const winner = await earlierBatch(db, projectKey, sha, key);
  if (!winner) throw new ConflictError("body: the same batch is being ingested right now; send it again shortly");
  return { result: winner, replayed: true };
}

/**
 * How long a batch is remembered for retries. A client retries within minutes;
 * a week covers a retry queue that waited out an outage, and keeps the table
 * from growing with every batch ever sent.
 */
export const API_LOG_BATCH_RETENTION_DAYS = 7;

/** Forgets batches received before `before`: the same body sent after that is a new batch. */
export async function dropOldApiLogBatches(db: Db, before: Date): Promise<number> {
  const rows = await queryRows(db, sql`delete from api_log_batches where received_at < ${before.toISOString()}::timestamptz returning 1`);
  return rows.length;
}
