import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyChain } from "../../src/db/audit/verify.ts";
import { cpuPool } from "../../src/workers/cpu-pool.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, appendTo, event, type ApiHarness, type ErrorBody } from "./helpers.ts";

if (!process.env.TEST_DATABASE_URL) console.warn("TEST_DATABASE_URL is not set: verify-offload tests cover PGlite only, NOT the PostgreSQL server");

/**
 * GET /v1/audit/verify hashes on a CPU worker: the event loop keeps answering while
 * a sizeable chain is checked, the number of checks in flight is bounded, and the
 * reports are those verifyChain gives in-process.
 */

const BIG = "offload-big";
const SMALL = "offload-small";
const BIG_EVENTS = 20_000;

interface Verification {
  ok: boolean;
  projects: { projectKey: string; ok: boolean; events: number; broken: { seq: number; reason: string } | null }[];
}

async function buildChain(database: TestDatabase, projectKey: string, events: number): Promise<void> {
  const batch = 2_000;
  for (let start = 0; start < events; start += batch) {
    const count = Math.min(batch, events - start);
    await appendTo(
      database.db,
      projectKey,
      Array.from({ length: count }, (_, i) =>
        event(null, { kind: "action", source: "action", actor: "cli:offload", after: { n: start + i, note: "ünïcødé", tags: ["a", "b"] } }),
      ),
    );
  }
}

describe.each(backends)("audit verification off the event loop on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await buildChain(database, BIG, BIG_EVENTS);
    await buildChain(database, SMALL, 50);
    api = await apiHarness(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("answers /healthz while a long chain is being verified on a worker", async () => {
    let finished = false;
    const verifying = api.json<Verification>(`/v1/audit/verify?project=${BIG}`).finally(() => {
      finished = true;
    });
    // Wait until the check has reached a worker, then ask for health.
    while (cpuPool().stats().jobs === 0 && !finished) await new Promise((r) => setTimeout(r, 5));
    expect(finished).toBe(false);
    const health = await api.call("/healthz", { role: null });
    expect(health.status).toBe(200);
    expect(finished).toBe(false);
    expect(cpuPool().stats().jobs).toBeGreaterThan(0);

    const { status, body } = await verifying;
    expect(status).toBe(200);
    expect(body).toEqual({ ok: true, projects: [{ projectKey: BIG, ok: true, events: BIG_EVENTS, broken: null }] });
  });

  it("refuses checks beyond the running and waiting places with 503 and Retry-After, and serves them again afterwards", async () => {
    const leave = new AbortController();
    const calls = Array.from({ length: 30 }, () => api.call(`/v1/audit/verify?project=${BIG}`, { signal: leave.signal }));
    const refused: Response[] = [];
    for (const call of calls) void call.then((res) => (res.status === 503 ? refused.push(res) : 0), () => 0);
    // The refusals come at once, while the accepted checks are still running or waiting.
    const places = cpuPool().size + 8;
    for (let waited = 0; refused.length < 30 - places && waited < 20_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(refused.length).toBe(30 - places);
    const first = refused[0]!;
    expect(Number(first.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await first.json()) as ErrorBody;
    expect(body.error.code).toBe("SERVICE_UNAVAILABLE");
    expect(body.error.message).toMatch(/too many audit checks/);
    // Those waiting leave when their clients go away (quietly: 503, nothing thrown); the running ones finish.
    leave.abort();
    const statuses = await Promise.all(calls.map(async (call) => (await call).status));
    expect(statuses.filter((s) => s === 200)).toHaveLength(cpuPool().size);
    expect(statuses.filter((s) => s === 503)).toHaveLength(30 - cpuPool().size);
    const after = await api.json<Verification>(`/v1/audit/verify?project=${SMALL}`);
    expect(after.status).toBe(200);
    expect(after.body.ok).toBe(true);
  });

  it("gives the in-process report through the worker, clean and broken", async () => {
    const clean = await api.json<Verification>(`/v1/audit/verify?project=${SMALL}`);
    expect(clean.body.projects).toEqual([await verifyChain(database.db, SMALL)]);
    expect(clean.body.projects[0]).toMatchObject({ ok: true, events: 50 });

    // A link appended past the head with a forged hash: the guard allows the insert, the check does not.
    await database.db.execute(sql`insert into file_events (project_key, seq, kind, observed_at, source, actor, prev_hash, hash)
      values (${SMALL}, 51, 'action', now(), 'action', 'mallory', ${"f".repeat(64)}, ${"0".repeat(64)})`);
    const broken = await api.json<Verification>(`/v1/audit/verify?project=${SMALL}`);
    expect(broken.status).toBe(200);
    expect(broken.body.ok).toBe(false);
    expect(broken.body.projects).toEqual([await verifyChain(database.db, SMALL)]);
    expect(broken.body.projects[0]!.broken?.seq).toBe(51);
  });
});
