import { sql } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { sameJson } from "../../src/db/audit/canonical-json.ts";
import { verifyChain } from "../../src/db/audit/verify.ts";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { AdaptiveConcurrency } from "../../src/sync/files/backfill/adaptive-concurrency.ts";
import { splitRange } from "../../src/sync/files/backfill/slice-plan.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { toEpochMicros } from "../../src/db/timestamps.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, clientFor, ledgerFiles, sandboxApi, sandboxWithProject } from "../support/uploadcare.ts";

const BASE = "2026-03-01T10:00:00";
const at = (second: number) => `${BASE.slice(0, 17)}${String(second).padStart(2, "0")}.250000Z`;

async function uploadAt(sandbox: Sandbox, datetime: string, count: number): Promise<string[]> {
  const res = await fetch(new URL("/__sandbox/files", sandbox.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ count, datetime_uploaded: datetime, stored: true }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { uuids: string[] }).uuids;
}

async function expectExact(database: TestDatabase, sandbox: Sandbox): Promise<void> {
  const upstream = await allSandboxFiles(sandbox);
  const ledger = await ledgerFiles(database.db, sandbox.publicKey);
  expect(ledger.size).toBe(upstream.size);
  expect([...upstream].filter(([uuid, file]) => !sameJson(ledger.get(uuid), file)).map(([uuid]) => uuid)).toEqual([]);
  const [dupes] = await queryRows<{ n: number }>(
    database.db,
    sql`select count(*)::int as n from (select file_uuid from file_events where project_key = ${sandbox.publicKey}
        and kind = 'uploaded' group by file_uuid having count(*) > 1) d`,
  );
  expect(dupes?.n).toBe(0);
  expect((await verifyChain(database.db, sandbox.publicKey)).ok).toBe(true);
}

describe("backfill slices", () => {
  it("put every boundary on a whole microsecond, each time in exactly one slice", () => {
    const first = toEpochMicros(at(0));
    const last = toEpochMicros(at(4));
    const slices = splitRange(false, first, last, 4);
    expect(slices.map((s) => [s.from, s.until])).toEqual([
      [null, "2026-03-01T10:00:01.250000Z"],
      ["2026-03-01T10:00:01.249999Z", "2026-03-01T10:00:02.250000Z"],
      ["2026-03-01T10:00:02.249999Z", "2026-03-01T10:00:03.250000Z"],
      ["2026-03-01T10:00:03.249999Z", null],
    ]);
    // A range too narrow for the count yields fewer slices, never an empty or repeated one.
    expect(splitRange(true, first, first + 2n, 10).map((s) => [s.from, s.until])).toEqual([
      [null, "2026-03-01T10:00:00.250001Z"],
      ["2026-03-01T10:00:00.250000Z", null],
    ]);
    expect(splitRange(true, first, first, 5)).toHaveLength(1);
  });

  it("halve concurrency on a 429 and win it back one step at a time", async () => {
    const limit = new AdaptiveConcurrency(8);
    limit.throttled();
    expect(limit.current).toBe(4);
    limit.throttled();
    limit.throttled();
    limit.throttled();
    expect(limit.current).toBe(1);
    for (let i = 0; i < 2; i++) await limit.run(async () => null);
    expect(limit.current).toBe(2);
    let inFlight = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        limit.run(async () => {
          most = Math.max(most, ++inFlight);
          await new Promise((r) => setTimeout(r, 5));
          inFlight -= 1;
        }),
      ),
    );
    expect(most).toBeLessThanOrEqual(3);
  });
});

describe.each(backends)("a first sync in concurrent slices on %s", (kind) => {
  let database: TestDatabase | undefined;
  let sandbox: Sandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    await database?.close();
  });

  it("is exact when slice and page boundaries fall inside runs of equal upload times", async () => {
    database = await createTestDatabase(kind);
    sandbox = await sandboxWithProject(database.db, { files: 0 });
    // Runs of 40 equal upload times exactly where the slices split (a quarter of the range each),
    // longer than a page (7), with some files of each run removed (the removed list is sliced too).
    await uploadAt(sandbox, at(0), 9);
    const runs = [await uploadAt(sandbox, at(1), 40), await uploadAt(sandbox, at(2), 40), await uploadAt(sandbox, at(3), 40)];
    await uploadAt(sandbox, at(4), 9);
    const removed = runs.flatMap((run) => run.slice(0, 15));
    expect((await sandboxApi(sandbox, "DELETE", "/files/storage/", removed.slice(0, 45))).status).toBe(200);

    const client = clientFor(database.db, sandbox, undefined, 7);
    // A half-second look-back: the runs lie one second apart, so it re-reads only the newest.
    const deps = { db: database.db, client, logger: silentLogger, now: () => new Date(), concurrency: 4, lookbackMs: 500 };
    const [, backfill] = await syncFiles(deps, { full: true });
    expect(backfill).toMatchObject({ lane: "backfill", status: "ok", seen: 138, inserted: 138 });
    await expectExact(database, sandbox);

    // The slices were planned at the runs: each boundary is one of the tied upload times.
    const [plan] = await queryRows<{ cursor: { slices: Array<{ until: string | null }>; complete: boolean } }>(
      database.db,
      sql`select cursor from sync_checkpoints where project_key = ${sandbox.publicKey} and lane = 'backfill'`,
    );
    expect(plan?.cursor.complete).toBe(true);
    const bounds = plan!.cursor.slices.map((s) => s.until).filter((u) => u !== null);
    expect(bounds).toEqual(expect.arrayContaining([at(1), at(2), at(3)]));

    // The baseline is set: a plain sync after 5 uploads pages only what is new, and a full one reconciles.
    await uploadAt(sandbox, new Date().toISOString(), 5);
    const plain = await syncFiles(deps, { full: false });
    expect(plain.map((s) => s.lane)).toEqual(["webhooks", "new"]);
    // The look-back re-reads the newest run (9 files at at(4)): 14 files, 2 pages of 7.
    expect(plain[1]).toMatchObject({ inserted: 5, changed: 0, pages: 2, seen: 14 });
    const full = await syncFiles(deps, { full: true });
    expect(full.map((s) => [s.lane, s.inserted + s.changed])).toEqual([["webhooks", 0], ["new", 0], ["reconcile", 0]]);
    await expectExact(database, sandbox);
  });

  it("resumes each slice after its last committed page when a run fails midway", async () => {
    database = await createTestDatabase(kind);
    sandbox = await sandboxWithProject(database.db, { files: 3_000, seed: 11 });
    const client = clientFor(database.db, sandbox, { maxAttempts: 1 }, 100);
    const deps = { db: database.db, client, logger: silentLogger, now: () => new Date(), concurrency: 6 };
    // Every request fails after the first dozen: the run stops with slices part-way through.
    let served = 0;
    const countRequests = setInterval(() => {
      served = sandbox!.requests().filter((r) => r.path === "/files/").length;
      if (served >= 12) sandbox!.setFaults({ errorRate: 1 });
    }, 1);
    const [, failed] = await syncFiles(deps, { full: true });
    clearInterval(countRequests);
    // "partial": some pages committed before the failure.
    expect(failed).toMatchObject({ lane: "backfill", status: "partial" });
    const progress = await queryRows<{ lane: string }>(
      database.db,
      sql`select lane from sync_checkpoints where project_key = ${sandbox.publicKey} and lane like 'backfill/%'`,
    );
    expect(progress.length).toBeGreaterThan(0);
    sandbox.resetFaults();

    const [, resumed] = await syncFiles({ ...deps, client: clientFor(database.db, sandbox, undefined, 100) }, { full: true });
    expect(resumed).toMatchObject({ lane: "backfill", status: "ok" });
    // Nothing listed twice across the two runs: what the first committed, the second did not read again.
    expect(failed!.seen + resumed!.seen).toBe(3_000);
    expect(failed!.inserted + resumed!.inserted).toBe(3_000);
    await expectExact(database, sandbox);
  });
});
