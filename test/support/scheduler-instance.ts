/**
 * One scheduler instance in its own process, for tests that kill or freeze it.
 * Env: DATABASE_URL, LEASE_MS, SLOT (the slot to fire once), HOLD_MS (how long
 * the job works before it writes). Prints one JSON line per scheduler event.
 */
import { sql } from "drizzle-orm";
import { openDatabase } from "../../src/db/client.ts";
import { silentLogger } from "../../src/logger.ts";
import { Scheduler } from "../../src/scheduler/scheduler.ts";

const database = await openDatabase({ url: process.env.DATABASE_URL, migrate: false });
const scheduler = new Scheduler({
  db: database.db,
  logger: silentLogger,
  instanceId: "child",
  leaseMs: Number(process.env.LEASE_MS),
  onEvent: (event, job) => process.stdout.write(`${JSON.stringify({ event, job })}\n`),
});
const job = {
  name: "test.effect",
  cron: "0 0 1 1 *",
  timezone: "UTC",
  projectKeys: ["p1"],
  async run(ctx: { slot: string; fence: (tx: never) => Promise<void> }) {
    process.stdout.write(`${JSON.stringify({ event: "working", slot: ctx.slot })}\n`);
    await new Promise((r) => setTimeout(r, Number(process.env.HOLD_MS)));
    await database.db.transaction(async (tx) => {
      await ctx.fence(tx as never);
      await tx.execute(sql`insert into test_effects (slot, holder) values (${ctx.slot}, 'child')`);
    });
  },
};
await scheduler.fire(job as never, process.env.SLOT!);
process.stdout.write(`${JSON.stringify({ event: "exit" })}\n`);
await database.close();
