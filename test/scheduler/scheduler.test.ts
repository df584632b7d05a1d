import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import { Scheduler, type JobDefinition, type SchedulerEvent } from "../../src/scheduler/scheduler.ts";
import { slotOf } from "../../src/scheduler/slots.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { until } from "../support/wait.ts";

const CHILD = fileURLToPath(new URL("../support/scheduler-instance.ts", import.meta.url));

function effectJob(database: Pick<Database, "db">, holder: string, cron = "* * * * * *"): JobDefinition {
  return {
    name: "test.effect",
    cron,
    timezone: "UTC",
    projectKeys: ["p1"],
    async run(ctx) {
      await database.db.transaction(async (tx) => {
        await ctx.fence(tx);
        await tx.execute(sql`insert into test_effects (slot, holder) values (${ctx.slot}, ${holder})`);
      });
    },
  };
}

async function effects(database: Pick<Database, "db">) {
  return queryRows<{ slot: string; holder: string }>(database.db, sql`select slot, holder from test_effects order by slot`);
}

describe.each(backends)("scheduler on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await database.db.execute(sql`create table test_effects (slot text not null, holder text not null)`);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("catches up the latest missed fire once on start, not again on the next start", async () => {
    await database.db.execute(sql`delete from test_effects`);
    const daily = effectJob(database, "a", "0 0 * * *");
    for (let i = 0; i < 2; i++) {
      const scheduler = new Scheduler({ db: database.db, logger: silentLogger, instanceId: `start-${i}` });
      await scheduler.start([daily]);
      await scheduler.stop();
    }
    const rows = await effects(database);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.slot).toMatch(/T00:00:00\.000000Z$/);
  });

  it("records a skip, not a second run, when a slot fires while the previous run still holds its lease", async () => {
    const events: SchedulerEvent[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slow: JobDefinition = { name: "test.slow", cron: "0 0 1 1 *", timezone: "UTC", projectKeys: ["p1"], run: () => held };
    const scheduler = new Scheduler({ db: database.db, logger: silentLogger, instanceId: "slow-1", onEvent: (e) => events.push(e) });
    const first = scheduler.fire(slow, "2026-01-01T00:00:00.000000Z");
    await until("the first slot's claim", () => events.includes("claimed"), { timeoutMs: 10_000 });
    await scheduler.fire(slow, "2026-01-01T00:00:01.000000Z");
    release();
    await first;
    expect(events).toEqual(["claimed", "skipped", "succeeded"]);
    const claims = await queryRows<{ status: string; error: string | null }>(
      database.db,
      sql`select status, error from job_claims where job = 'test.slow' order by slot`,
    );
    expect(claims).toEqual([
      { status: "done", error: null },
      {
        status: "skipped",
        error: expect.stringMatching(/^the previous run is still going: test\.slow \(slot 2026-01-01T00:00:00\.000000Z\) held by slow-1 since \d{4}-/),
      },
    ]);
  });
});

const serverUrl = process.env.TEST_DATABASE_URL;
if (!serverUrl) {
  // Loud, not silent: these tests need several processes on one server, which embedded PGlite cannot be.
  process.stdout.write("\n[ucledger tests] NOT RUN: multi-instance scheduler tests need TEST_DATABASE_URL (a PostgreSQL server)\n\n");
}

describe.skipIf(!serverUrl)("scheduler instances sharing one PostgreSQL server (needs TEST_DATABASE_URL)", () => {
  let database: TestDatabase;
  let second: Database;
  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    second = await openDatabase({ url: database.url, migrate: false, maxConnections: 3 });
    await database.db.execute(sql`create table test_effects (slot text not null, holder text not null)`);
  });
  afterAll(async () => {
    await second?.close();
    await database?.close();
  });

  it("runs every slot exactly once across two instances over 50 one-second slots", async () => {
    const a = new Scheduler({ db: database.db, logger: silentLogger, instanceId: "a" });
    const b = new Scheduler({ db: second.db, logger: silentLogger, instanceId: "b" });
    const startedAt = slotOf(new Date());
    await Promise.all([a.start([effectJob(database, "a")]), b.start([effectJob(second, "b")])]);
    const deadline = Date.now() + 90_000;
    while ((await effects(database)).filter((r) => r.slot > startedAt).length < 50 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
    }
    await Promise.all([a.stop(), b.stop()]);
    const rows = (await effects(database)).filter((r) => r.slot > startedAt);
    expect(rows.length).toBeGreaterThanOrEqual(50);
    const perSlot = new Map<string, number>();
    for (const row of rows) perSlot.set(row.slot, (perSlot.get(row.slot) ?? 0) + 1);
    expect([...perSlot.values()].filter((n) => n > 1)).toEqual([]);
    // Consecutive seconds: no slot was lost between the instances.
    const seconds = [...perSlot.keys()].map((s) => Date.parse(s) / 1000).sort((x, y) => x - y);
    expect(seconds.at(-1)! - seconds[0]! + 1).toBe(seconds.length);
  }, 120_000);

  function startChild(env: Record<string, string>) {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD], {
      env: { PATH: process.env.PATH ?? "", DATABASE_URL: database.url!, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines: { event: string }[] = [];
    let buffer = "";
    child.stdout!.on("data", (chunk) => {
      buffer += chunk;
      for (let i = buffer.indexOf("\n"); i >= 0; i = buffer.indexOf("\n")) {
        lines.push(JSON.parse(buffer.slice(0, i)));
        buffer = buffer.slice(i + 1);
      }
    });
    const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
    const waitFor = async (event: string) => {
      const deadline = Date.now() + 30_000;
      while (!lines.some((l) => l.event === event)) {
        if (Date.now() > deadline) throw new Error(`child never reported ${event}: ${JSON.stringify(lines)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    return { child, lines, exited, waitFor };
  }

  async function takeOverWith(instanceId: string, leaseMs: number) {
    const events: SchedulerEvent[] = [];
    const b = new Scheduler({ db: second.db, logger: silentLogger, instanceId, leaseMs, onEvent: (e) => events.push(e) });
    await b.start([effectJob(second, instanceId, "0 0 1 1 *")]);
    const deadline = Date.now() + 20_000;
    while (!events.includes("succeeded") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await b.stop();
    return events;
  }

  it("lets another instance take over when the lease holder is killed", async () => {
    const slot = "2026-02-01T00:00:00.000000Z";
    const holder = startChild({ LEASE_MS: "1500", SLOT: slot, HOLD_MS: "60000" });
    await holder.waitFor("working");
    holder.child.kill("SIGKILL");
    await holder.exited;
    const events = await takeOverWith("b-kill", 1500);
    expect(events).toContain("took_over");
    expect(events).toContain("succeeded");
    const [claim] = await queryRows<{ status: string; holder: string; attempts: number }>(
      database.db,
      sql`select status, holder, attempts from job_claims where job = 'test.effect' and slot = ${slot}::timestamptz`,
    );
    expect(claim).toEqual({ status: "done", holder: "b-kill", attempts: 2 });
    expect((await effects(database)).filter((r) => r.slot === slot)).toEqual([{ slot, holder: "b-kill" }]);
  }, 60_000);

  it("refuses the late write of a frozen holder whose lease was taken over", async () => {
    const slot = "2026-03-01T00:00:00.000000Z";
    const holder = startChild({ LEASE_MS: "1500", SLOT: slot, HOLD_MS: "1000" });
    await holder.waitFor("working");
    holder.child.kill("SIGSTOP"); // Frozen like a long GC pause or a partition: no heartbeats.
    const events = await takeOverWith("b-freeze", 1500);
    expect(events).toContain("took_over");
    holder.child.kill("SIGCONT");
    await holder.waitFor("exit");
    await holder.exited;
    expect(holder.lines.map((l) => l.event)).toContain("fenced");
    expect(holder.lines.map((l) => l.event)).not.toContain("succeeded");
    expect((await effects(database)).filter((r) => r.slot === slot)).toEqual([{ slot, holder: "b-freeze" }]);
  }, 60_000);
});
