import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/query.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { API_LOG_BATCH_RETENTION_DAYS, dropOldApiLogBatches } from "../../src/sync/api-log-ingest.ts";
import { apiHarness, type ApiHarness, type ErrorBody } from "./helpers.ts";

/**
 * POST /v1/api-logs as a batch: bad lines are refused one by one with a reason,
 * the good ones commit together, and a retry (same body, or same
 * Idempotency-Key) adds nothing and answers what the first did.
 */

const P = "batches-p";

interface Result {
  accepted: number;
  rejected: number;
  errors: { line: number; field: string | null; reason: string }[];
  errorsTruncated: boolean;
}

const line = (source: string, i: number, overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    ts: new Date(Date.UTC(2026, 1, 1, 0, 0, 0, i)).toISOString(),
    method: "GET",
    path: `/files/${i}/`,
    status: 200,
    duration_ms: i % 100,
    api: "rest",
    source,
    ...overrides,
  });

/** 2,500 good lines, a NUL in `path` at line 101 and a day that does not exist at line 2,001. */
function batch(source: string): string {
  const lines = Array.from({ length: 2_502 }, (_, i) => line(source, i));
  lines[100] = line(source, 100, { path: "/files/\u0000/" });
  lines[2_000] = line(source, 2_000, { ts: "2026-02-30T10:00:00Z" });
  return lines.join("\n") + "\n";
}

const BAD_LINES = [
  { line: 101, field: "path", reason: "path: must not contain NUL characters" },
  { line: 2_001, field: "ts", reason: "ts: names a day or time that does not exist" },
];

describe.each(backends)("API-log batches on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await registerProjects(database.db, [{ projectKey: P, name: "p", isDemo: false }]);
    api = await apiHarness(database, { projects: [{ publicKey: P }] });
  });
  afterAll(async () => {
    await database?.close();
  });

  const post = async (body: string | Uint8Array, headers: Record<string, string> = {}) => {
    const res = await api.call("/v1/api-logs", { method: "POST", role: "operator", headers: { "Content-Type": "application/x-ndjson", ...headers }, body });
    return { status: res.status, replayed: res.headers.get("idempotent-replayed"), body: (await res.json()) as Result & ErrorBody };
  };
  const kept = async (source: string) =>
    (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from api_requests where project_key = ${P} and source = ${source}`))[0]!.n;

  it("keeps 2,500 good lines once, names both bad lines, and answers a retried body as the first time", async () => {
    const body = batch("retry-body");
    const first = await post(body);
    expect(first.status).toBe(200);
    expect(first.replayed).toBeNull();
    expect(first.body).toEqual({ accepted: 2_500, rejected: 2, errors: BAD_LINES, errorsTruncated: false });
    expect(await kept("retry-body")).toBe(2_500);

    const again = await post(body);
    expect(again.status).toBe(200);
    expect(again.replayed).toBe("true");
    expect(again.body).toEqual(first.body);
    expect(await kept("retry-body")).toBe(2_500);

    // The same body under a key is still the same batch.
    const keyed = await post(body, { "Idempotency-Key": "late-key" });
    expect(keyed.body).toEqual(first.body);
    expect(await kept("retry-body")).toBe(2_500);
  });

  it("answers a retried Idempotency-Key as the first time, and refuses that key with another body", async () => {
    const body = batch("retry-key");
    const first = await post(body, { "Idempotency-Key": "batch-0001" });
    expect(first.body).toEqual({ accepted: 2_500, rejected: 2, errors: BAD_LINES, errorsTruncated: false });
    const again = await post(body, { "Idempotency-Key": "batch-0001" });
    expect(again.status).toBe(200);
    expect(again.replayed).toBe("true");
    expect(again.body).toEqual(first.body);
    expect(await kept("retry-key")).toBe(2_500);

    const other = await post(batch("retry-key-other"), { "Idempotency-Key": "batch-0001" });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("CONFLICT");
    expect(other.body.error.message).toMatch(/^Idempotency-Key: /);
    expect(await kept("retry-key-other")).toBe(0);

    for (const bad of ["has space", "x".repeat(201), "clé"]) {
      const res = await post(batch("bad-key"), { "Idempotency-Key": bad });
      expect(res.status, bad).toBe(400);
      expect(res.body.error.message).toMatch(/^idempotency-key: /);
    }
    expect(await kept("bad-key")).toBe(0);
  });

  it("remembers a batch for its retry window only: the daily clean-up forgets older ones", async () => {
    const body = batch("window");
    expect((await post(body)).body.accepted).toBe(2_500);
    // A week and a day later the same body is a new batch.
    const later = new Date(Date.now() + (API_LOG_BATCH_RETENTION_DAYS + 1) * 86_400_000);
    expect(await dropOldApiLogBatches(database.db, new Date(later.getTime() - API_LOG_BATCH_RETENTION_DAYS * 86_400_000))).toBeGreaterThanOrEqual(1);
    const resent = await post(body);
    expect(resent.replayed).toBeNull();
    expect(await kept("window")).toBe(5_000);
  });

  it("keeps the lines once when the same batch arrives twice at the same moment", async () => {
    const body = batch("twins");
    const [a, b] = await Promise.all([post(body), post(body)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body).toEqual(b.body);
    expect([a.replayed, b.replayed].sort()).toEqual(["true", null].sort());
    expect(await kept("twins")).toBe(2_500);

    // Two bodies under one key at once: one is kept, the other refused.
    const [c, d] = await Promise.all([post(batch("key-twin-1"), { "Idempotency-Key": "twin" }), post(batch("key-twin-2"), { "Idempotency-Key": "twin" })]);
    expect([c.status, d.status].sort()).toEqual([200, 409]);
    expect((await kept("key-twin-1")) + (await kept("key-twin-2"))).toBe(2_500);
  });

  it("refuses every string PostgreSQL cannot hold and every instant it cannot store, never with a 5xx", async () => {
    const source = "nasty";
    const encoder = new TextEncoder();
    const lines: (string | Uint8Array)[] = [
      line(source, 1),
      line(source, 2, { source: "shop\u0000" }),
      line(source, 3, { path: "/files/\ud800/" }),
      line(source, 4, { source: "\udfff" }),
      line(source, 5, { method: "GE\u0000T" }),
      JSON.stringify({ "\u0000\ud800": 1, ...JSON.parse(line(source, 6)) }),
      line(source, 7, { ts: "2023-02-29T00:00:00Z" }),
      line(source, 8, { ts: "2026-04-31T00:00:00+02:00" }),
      line(source, 9, { ts: "2026-01-01T24:00:00Z" }),
      line(source, 10, { ts: "2026-01-01T00:00:00+16:00" }),
      line(source, 11, { ts: "0001-01-01T00:30:00+01:00" }),
      line(source, 12, { ts: "9999-12-31T23:00:00-05:00" }),
      new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      line(source, 14, { path: "/files/😀/" }),
      "[]",
      JSON.stringify({ ts: "2026-02-01T00:00:00Z" }),
    ];
    const parts = lines.flatMap((l) => [typeof l === "string" ? encoder.encode(l) : l, encoder.encode("\n")]);
    const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      body.set(p, at);
      at += p.length;
    }
    const first = await post(body);
    expect(first.status).toBe(200);
    expect(first.body.accepted).toBe(2);
    expect(first.body.errors).toEqual([
      { line: 2, field: "source", reason: "source: must not contain NUL characters" },
      { line: 3, field: "path", reason: "path: must not contain unpaired surrogates (\\ud800–\\udfff)" },
      { line: 4, field: "source", reason: "source: must not contain unpaired surrogates (\\ud800–\\udfff)" },
      { line: 5, field: "method", reason: "method: must be an HTTP method" },
      { line: 6, field: null, reason: expect.stringContaining('"\\u0000\\ud800" is not a field') },
      { line: 7, field: "ts", reason: "ts: names a day or time that does not exist" },
      { line: 8, field: "ts", reason: "ts: names a day or time that does not exist" },
      { line: 9, field: "ts", reason: "ts: names a day or time that does not exist" },
      { line: 10, field: "ts", reason: expect.stringMatching(/^ts: must fall between 1900 and 9999/) },
      { line: 11, field: "ts", reason: expect.stringMatching(/^ts: must fall between 1900 and 9999/) },
      { line: 12, field: "ts", reason: expect.stringMatching(/^ts: must fall between 1900 and 9999/) },
      { line: 13, field: null, reason: "not valid UTF-8" },
      { line: 15, field: null, reason: "must be a JSON object" },
      { line: 16, field: "method", reason: "method: is required" },
    ]);
    expect(await kept(source)).toBe(2);
    // The stored answer (jsonb) holds the quoted key as text and comes back the same.
    const again = await post(body);
    expect(again.replayed).toBe("true");
    expect(again.body).toEqual(first.body);
    expect(await kept(source)).toBe(2);
  });

  it("keeps nothing of a batch whose write fails, so its retry keeps it whole", async () => {
    // A fault on the 2,201st good line, after the first insert statement of 2,000 rows ran.
    await database.db.execute(sql.raw(`create function fail_boom() returns trigger language plpgsql as $$
      begin if new.path = '/boom/' then raise exception 'boom'; end if; return new; end $$`));
    await database.db.execute(sql.raw(`create trigger fail_boom before insert on api_requests for each row execute function fail_boom()`));
    const lines = Array.from({ length: 2_500 }, (_, i) => line("all-or-nothing", i, i === 2_200 ? { path: "/boom/" } : {}));
    const body = lines.join("\n");
    expect((await post(body)).status).toBe(500);
    expect(await kept("all-or-nothing")).toBe(0);
    const [batches] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from api_log_batches where result->>'accepted' = '2500' and project_key = ${P}`);

    await database.db.execute(sql.raw(`drop trigger fail_boom on api_requests`));
    await database.db.execute(sql.raw(`drop function fail_boom()`));
    const retry = await post(body);
    expect(retry.status).toBe(200);
    expect(retry.replayed).toBeNull();
    expect(retry.body.accepted).toBe(2_500);
    expect(await kept("all-or-nothing")).toBe(2_500);
    const [after] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from api_log_batches where result->>'accepted' = '2500' and project_key = ${P}`);
    expect(after!.n).toBe(batches!.n + 1);
  });
});
