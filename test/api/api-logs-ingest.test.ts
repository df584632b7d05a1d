import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INGEST_LIMIT_BYTES } from "../../src/api/api-logs-ingest.ts";
import { queryRows } from "../../src/db/query.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, type ApiHarness } from "./helpers.ts";

const good = (i: number) =>
  JSON.stringify({ ts: new Date(Date.UTC(2026, 10, 1, 0, 0, i % 60)).toISOString(), method: "get", path: `/files/${i}/`, status: i % 7 === 0 ? 500 : 200, duration_ms: i % 300, api: i % 2 ? "rest" : "upload", source: "shop-backend" });

describe.each(backends)("POST /v1/api-logs on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await registerProjects(database.db, [{ projectKey: "ingest-p", name: "p", isDemo: false }]);
    api = await apiHarness(database, { projects: [{ publicKey: "ingest-p" }] });
  });
  afterAll(async () => {
    await database?.close();
  });

  const post = (body: string, role: "viewer" | "operator" | null = "operator", query = "") =>
    api.call(`/v1/api-logs${query}`, { method: "POST", role, headers: { "Content-Type": "application/x-ndjson" }, body });

  it("accepts a 10,000-line body and keeps the good lines while naming why each bad one was refused", async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => good(i));
    lines[3] = "{not json";
    lines[10] = JSON.stringify({ ...JSON.parse(good(10)), status: 700 });
    lines[20] = JSON.stringify({ ...JSON.parse(good(20)), api: "graphql" });
    lines[30] = JSON.stringify({ ...JSON.parse(good(30)), extra: 1 });
    lines[40] = JSON.stringify({ ...JSON.parse(good(40)), ts: "yesterday" });
    const res = await post(lines.join("\n") + "\n");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      accepted: 9_995,
      rejected: 5,
      errorsTruncated: false,
      errors: [
        { line: 4, field: null, reason: "not valid JSON" },
        { line: 11, field: "status", reason: "status: must be an HTTP status from 100 to 599" },
        { line: 21, field: "api", reason: "api: must be rest or upload" },
        { line: 31, field: null, reason: expect.stringMatching(/extra/) },
        { line: 41, field: "ts", reason: "ts: must be an ISO 8601 timestamp" },
      ],
    });
    const [stored] = await queryRows<{ n: number; errors: number; upload: number }>(
      database.db,
      sql`select count(*)::int as n, count(*) filter (where status >= 500)::int as errors, count(*) filter (where api = 'upload')::int as upload
          from api_requests where project_key = 'ingest-p' and source = 'shop-backend'`,
    );
    const kept = [...Array(10_000).keys()].filter((i) => ![3, 10, 20, 30, 40].includes(i));
    expect(stored).toEqual({ n: 9_995, errors: kept.filter((i) => i % 7 === 0).length, upload: kept.filter((i) => i % 2 === 0).length });
  });

  it("refuses a body over the size limit with 413 and stores nothing", async () => {
    const [before] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from api_requests where project_key = 'ingest-p'`);
    const line = good(1) + "\n";
    const res = await post(line.repeat(Math.ceil((INGEST_LIMIT_BYTES + 1) / line.length)));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("PAYLOAD_TOO_LARGE");
    const [after] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from api_requests where project_key = 'ingest-p'`);
    expect(after).toEqual(before);
  });

  it("needs an operator token and a known project", async () => {
    expect((await post(good(1), null)).status).toBe(401);
    expect((await post(good(1), "viewer")).status).toBe(403);
    const unknown = await post(good(1), "operator", "?project=nope");
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/^project: /);
    expect((await post("  \n", "operator")).status).toBe(400);
  });
});
