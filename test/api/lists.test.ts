import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, insertFiles, uuidOf, type ApiHarness, type ErrorBody } from "./helpers.ts";

interface Page<T> {
  data: T[];
  nextCursor: string | null;
  total: number | null;
}

const P = "lists-p";
const Q = "lists-q";

describe.each(backends)("projects, usage, API logs, sync runs and stats on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await registerProjects(database.db, [
      { projectKey: P, name: "Project P", isDemo: false },
      { projectKey: Q, name: "Project Q", isDemo: true },
    ]);
    // Usage: 10 days × 2 metrics for P, 3 days of traffic for Q.
    await database.db.execute(sql`insert into usage_daily (project_key, date, metric, value, unit, fetched_at)
      select ${P}, date '2026-02-01' + d, m, d * 100, case when m = 'traffic' then 'bytes' else 'operations' end, now()
      from generate_series(0, 9) d, unnest(array['traffic', 'operations']) m`);
    await database.db.execute(sql`insert into usage_daily (project_key, date, metric, value, unit, fetched_at)
      select ${Q}, date '2026-02-01' + d, 'traffic', 7, 'bytes', now() from generate_series(0, 2) d`);
    // API log: 40 requests of P with a mix of answers, 1 unverified webhook delivery.
    await database.db.execute(sql`insert into api_requests (project_key, id, requested_at, source, api, method, path, status, duration_ms, attempt, run_id)
      select ${P}, gen_random_uuid(), timestamptz '2026-02-01 00:00:00+00' + i * interval '1 minute', 'ucledger', 'rest', 'GET',
        case when i % 2 = 0 then '/files/' else '/files/' || i || '/' end,
        case when i % 10 = 0 then 503 when i % 10 = 1 then 429 when i % 10 = 2 then null else 200 end,
        10 + i, 1, case when i < 5 then 'run-1' end
      from generate_series(0, 39) i`);
    await database.db.execute(sql`insert into api_requests (project_key, id, requested_at, source, api, method, path, status, duration_ms, attempt)
      values ('-', gen_random_uuid(), '2026-02-02T00:00:00Z', 'uploadcare', 'webhook', 'POST', '/v1/webhooks/uploadcare', 401, 1, 1)`);
    // Sync runs: 6 in P (one still running), 2 in Q.
    await database.db.execute(sql`insert into sync_runs (project_key, id, stream, lane, started_at, finished_at, status)
      select ${P}, gen_random_uuid(), case when i < 4 then 'files' else 'usage' end, case when i < 4 then 'new' else 'usage' end,
        timestamptz '2026-02-01 00:00:00+00' + i * interval '1 hour', case when i = 5 then null else timestamptz '2026-02-01 00:10:00+00' + i * interval '1 hour' end,
        case when i = 5 then 'running' when i = 2 then 'failed' else 'ok' end
      from generate_series(0, 5) i`);
    await database.db.execute(sql`insert into sync_runs (project_key, id, stream, lane, started_at, status)
      select ${Q}, gen_random_uuid(), 'files', 'reconcile', timestamptz '2026-02-01 00:30:00+00' + i * interval '1 hour', 'ok' from generate_series(0, 1) i`);
    // Files for the stats: P has 6 (2 stored png, 1 unstored pdf, 2 removed, 1 missing stored), Q none.
    await insertFiles(database.db, [
      { projectKey: P, uuid: uuidOf(1), uploaded: "2026-02-01T01:00:00Z", size: 100, stored: "2026-02-01T01:00:01Z" },
      { projectKey: P, uuid: uuidOf(2), uploaded: "2026-02-01T23:59:59.999999Z", size: 200, stored: "2026-02-02T00:00:00Z" },
      { projectKey: P, uuid: uuidOf(3), uploaded: "2026-02-02T00:00:00Z", size: 300, mimeType: "application/pdf" },
      { projectKey: P, uuid: uuidOf(4), uploaded: "2026-02-03T00:00:00Z", size: 400, removed: "2026-02-04T00:00:00Z" },
      { projectKey: P, uuid: uuidOf(5), uploaded: "2026-02-03T00:00:00Z", size: 500, stored: "2026-02-03T00:00:00Z", removed: "2026-02-05T00:00:00Z" },
      { projectKey: P, uuid: uuidOf(6), uploaded: "2025-12-31T00:00:00Z", size: 600, stored: "2025-12-31T00:00:00Z", missingSince: "2026-02-06T00:00:00Z" },
    ]);
    api = await apiHarness(database, { now: () => new Date("2026-02-10T12:00:00Z") });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("lists projects by key", async () => {
    const { body } = await api.json<Page<{ projectKey: string; name: string; isDemo: boolean }>>("/v1/projects?limit=1");
    expect(body.data).toEqual([expect.objectContaining({ projectKey: P, name: "Project P", isDemo: false })]);
    expect(body.total).toBe(2);
    const next = await api.json<Page<{ projectKey: string }>>(`/v1/projects?limit=1&cursor=${body.nextCursor}`);
    expect(next.body.data.map((p) => p.projectKey)).toEqual([Q]);
    expect(next.body.nextCursor).toBeNull();
  });

  it("gives daily usage series by project, metric and inclusive date range", async () => {
    const { body } = await api.json<Page<{ projectKey: string; date: string; metric: string; value: number }>>(
      `/v1/usage?project=${P}&metric=traffic&from=2026-02-03&to=2026-02-05`,
    );
    expect(body.data.map((u) => [u.date, u.metric, u.value])).toEqual([
      ["2026-02-03", "traffic", 200],
      ["2026-02-04", "traffic", 300],
      ["2026-02-05", "traffic", 400],
    ]);
    const all = await api.json<Page<unknown>>("/v1/usage?limit=1000");
    expect(all.body.total).toBe(23);
    const desc = await api.json<Page<{ date: string }>>(`/v1/usage?project=${Q}&order=desc`);
    expect(desc.body.data.map((u) => u.date)).toEqual(["2026-02-03", "2026-02-02", "2026-02-01"]);
  });

  it.each([
    ["status=5xx", 4],
    ["status=4xx", 5],
    ["status=429,503", 8],
    ["status=none", 4],
    ["status=5xx&status=none", 8],
    ["path=/files/", 20],
    ["path=/files/1*", 6],
    ["runId=run-1", 5],
    ["source=uploadcare", 1],
    ["api=webhook&project=-", 1],
    ["from=2026-02-01T00:10:00Z&to=2026-02-01T00:20:00Z", 10],
  ])("filters API logs by %s", async (query, expected) => {
    const { body } = await api.json<Page<unknown>>(`/v1/api-logs?${query}&limit=100`);
    expect(body.data).toHaveLength(expected);
    expect(body.total).toBe(expected);
  });

  it("orders API logs newest first, or errors first across pages", async () => {
    const recent = await api.json<Page<{ requestedAt: string }>>(`/v1/api-logs?project=${P}&limit=3`);
    expect(recent.body.data.map((r) => r.requestedAt)).toEqual(["2026-02-01T00:39:00.000000Z", "2026-02-01T00:38:00.000000Z", "2026-02-01T00:37:00.000000Z"]);
    const statuses: (number | null)[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Page<{ status: number | null }> } = await api.json(`/v1/api-logs?order=errors_first&limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      statuses.push(...page.body.data.map((r) => r.status));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(statuses).toHaveLength(41);
    const firstOk = statuses.indexOf(200);
    expect(statuses.slice(0, firstOk).every((s) => s === null || s >= 400)).toBe(true);
    expect(firstOk).toBe(13);
    expect(statuses.slice(firstOk).every((s) => s === 200)).toBe(true);
  });

  it("lists sync runs newest first with filters", async () => {
    const all = await api.json<Page<{ projectKey: string; startedAt: string; status: string }>>("/v1/sync/runs");
    expect(all.body.data.map((r) => r.startedAt.slice(11, 16))).toEqual(["05:00", "04:00", "03:00", "02:00", "01:30", "01:00", "00:30", "00:00"]);
    expect((await api.json<Page<unknown>>(`/v1/sync/runs?project=${P}&stream=files&status=failed`)).body.data).toHaveLength(1);
    expect((await api.json<Page<unknown>>("/v1/sync/runs?status=running,failed")).body.total).toBe(2);
    expect((await api.json<Page<unknown>>("/v1/sync/runs?lane=reconcile")).body.total).toBe(2);
    expect((await api.json<Page<unknown>>("/v1/sync/runs?startedFrom=2026-02-01T02:00:00Z&startedTo=2026-02-01T04:00:00Z")).body.total).toBe(2);
  });

  it("sums files by state and MIME type, and uploads per UTC day", async () => {
    const { status, body } = await api.json<{ from: string; to: string; projects: Record<string, unknown>[] }>(
      `/v1/stats/summary?from=2026-02-01&to=2026-02-03`,
    );
    expect(status).toBe(200);
    const p = body.projects.find((x) => x["projectKey"] === P);
    expect(p).toEqual({
      projectKey: P,
      files: { count: 6, bytes: 2100 },
      byState: {
        stored: { count: 3, bytes: 900 },
        unstored: { count: 1, bytes: 300 },
        removed: { count: 2, bytes: 900 },
        missing: { count: 1, bytes: 600 },
      },
      byMimeType: [
        { mimeType: "image/png", count: 5, bytes: 1800 },
        { mimeType: "application/pdf", count: 1, bytes: 300 },
      ],
      uploadsPerDay: [
        { date: "2026-02-01", count: 2, bytes: 300 },
        { date: "2026-02-02", count: 1, bytes: 300 },
        { date: "2026-02-03", count: 2, bytes: 900 },
      ],
    });
    expect(body.projects.find((x) => x["projectKey"] === Q)).toMatchObject({ files: { count: 0, bytes: 0 }, byMimeType: [], uploadsPerDay: [] });
    // Default range: the 30 days up to today (the injected clock).
    const dflt = await api.json<{ from: string; to: string }>(`/v1/stats/summary?project=${Q}`);
    expect([dflt.body.from, dflt.body.to]).toEqual(["2026-01-12", "2026-02-10"]);
  });

  it.each([
    ["/v1/projects?limit=x", "limit"],
    ["/v1/usage?from=2026-02-30", "from"],
    ["/v1/usage?to=20260201", "to"],
    ["/v1/api-logs?status=600", "status"],
    ["/v1/api-logs?status=5XX,abc", "status"],
    ["/v1/api-logs?order=slowest", "order"],
    ["/v1/api-logs?method=G3T", "method"],
    ["/v1/sync/runs?status=sleeping", "status"],
    ["/v1/sync/runs?startedFrom=noon", "startedFrom"],
    ["/v1/stats/summary?from=2025-01-01&to=2026-02-01", "to"],
    ["/v1/stats/summary?from=2026-02-05&to=2026-02-01", "from"],
  ])("answers 400 naming the parameter for %s", async (path, param) => {
    const { status, body } = await api.json<ErrorBody>(path);
    expect(status).toBe(400);
    expect(body.error.message).toContain(param);
  });

  it.each(["/v1/usage?project=zz", "/v1/api-logs?project=zz", "/v1/sync/runs?project=zz", "/v1/stats/summary?project=zz"])(
    "answers 404 for an unknown project: %s",
    async (path) => {
      const { status, body } = await api.json<ErrorBody>(path);
      expect(status).toBe(404);
      expect(body.error.message).toBe("project zz not found");
    },
  );
});
