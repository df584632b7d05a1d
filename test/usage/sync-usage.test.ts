import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { syncUsage } from "../../src/sync/usage/sync-usage.ts";
import { planUsageWindows } from "../../src/sync/usage/windows.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { clientFor, sandboxWithProject } from "../support/uploadcare.ts";

const DAY = 86_400_000;
const dayOf = (d: Date) => d.toISOString().slice(0, 10);

describe("planUsageWindows", () => {
  it.each([
    ["first run: 365 days back, windows of at most 90, ending yesterday", null, 365, [
      ["2025-11-26", "2026-02-23"], ["2026-02-24", "2026-05-24"], ["2026-05-25", "2026-08-22"], ["2026-08-23", "2026-11-20"], ["2026-11-21", "2026-11-25"],
    ]],
    ["later run: the last three days again", "2026-11-25", 365, [["2026-11-23", "2026-11-25"]]],
    ["a gap since the last run", "2026-11-10", 365, [["2026-11-08", "2026-11-25"]]],
    ["nothing to ask before yesterday", null, 0, []],
  ])("%s", (_name, lastStoredDay, backfillDays, expected) => {
    const windows = planUsageWindows({ today: new Date("2026-11-26T10:00:00Z"), lastStoredDay: lastStoredDay as string | null, backfillDays: backfillDays as number });
    expect(windows.map((w) => [w.from, w.to])).toEqual(expected);
  });
});

describe.each(backends)("usage sync on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: Sandbox;
  const run = (hasToken = true) =>
    syncUsage({ db: database.db, client: clientFor(database.db, sandbox), logger: silentLogger, now: () => sandbox.now(), backfillDays: 365, hasToken });
  const usageRequests = () => sandbox.requests().filter((r) => r.path.includes("/usage/"));

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    sandbox = await sandboxWithProject(database.db, { files: 300, seed: 5 });
  });
  afterAll(async () => {
    await sandbox?.close();
    await database?.close();
  });

  it("backfills 365 days in windows of at most 90 days and never asks for today", async () => {
    const summary = await run();
    expect(summary).toMatchObject({ status: "ok", stream: "usage", inserted: 365 * 3, changed: 0 });
    const today = dayOf(sandbox.now());
    const windows = usageRequests().map((r) => [r.query.from!, r.query.to!]);
    expect(windows.length).toBe(5);
    for (const [from, to] of windows) {
      expect(to! < today).toBe(true);
      expect((Date.parse(to!) - Date.parse(from!)) / DAY + 1).toBeLessThanOrEqual(90);
    }
    const [range] = await queryRows<{ first: string; last: string; n: number }>(
      database.db,
      sql`select min(date)::text as first, max(date)::text as last, count(distinct date)::int as n from usage_daily where project_key = ${sandbox.publicKey}`,
    );
    expect(range).toEqual({ first: dayOf(new Date(sandbox.now().getTime() - 365 * DAY)), last: dayOf(new Date(sandbox.now().getTime() - DAY)), n: 365 });
  });

  it("changes nothing on a rerun, and updates a late figure that changed", async () => {
    const before = usageRequests().length;
    expect(await run()).toMatchObject({ status: "ok", inserted: 0, changed: 0, seen: 3 });
    expect(usageRequests().slice(before).map((r) => r.query.from)).toEqual([dayOf(new Date(sandbox.now().getTime() - 3 * DAY))]);

    const yesterday = dayOf(new Date(sandbox.now().getTime() - DAY));
    const res = await fetch(`${sandbox.url}/__sandbox/usage`, {
      method: "PUT",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ date: yesterday, metric: "traffic", value: 123_456_789 }),
    });
    expect(res.ok).toBe(true);
    expect(await run()).toMatchObject({ status: "ok", inserted: 0, changed: 1 });
    const [row] = await queryRows<{ value: number }>(
      database.db,
      sql`select value from usage_daily where project_key = ${sandbox.publicKey} and date = ${yesterday} and metric = 'traffic'`,
    );
    expect(Number(row?.value)).toBe(123_456_789);
  });

  it("records a run without a Project API token as skipped, with one line saying why, and asks nothing", async () => {
    const before = usageRequests().length;
    const summary = await run(false);
    expect(summary.status).toBe("skipped");
    expect(summary.error).toMatch(/^no Project API token configured/);
    expect(usageRequests().length).toBe(before);
  });
});
