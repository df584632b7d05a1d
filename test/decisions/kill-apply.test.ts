import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { verifyChain } from "../../src/db/audit/verify.ts";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { queryRows } from "../../src/db/query.ts";
import { createPolicy } from "../../src/decisions/manage-policies.ts";
import { proposePlan } from "../../src/decisions/propose.ts";
import { approvePlan } from "../../src/decisions/review.ts";
import { silentLogger } from "../../src/logger.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { runCli, spawnCli, cliEnv } from "../support/cli.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, clientFor } from "../support/uploadcare.ts";
import { batchRequests, uploadOld } from "./helpers.ts";
import { until } from "../support/wait.ts";

const FILES = 600;
const KILLS = 2;

const waitForDeletes = (sandbox: Sandbox, count: number) =>
  until(`${count} batch deletes`, () => batchRequests(sandbox, "DELETE").length >= count, { intervalMs: 2 });

describe.each(backends)("an apply killed with SIGKILL and run again on %s", (kind) => {
  let sandbox: Sandbox | undefined;
  let server: TestDatabase | undefined;
  afterAll(async () => {
    await sandbox?.close();
    await server?.close();
  });

  it("finishes the plan with every file deleted once and no item sent twice", async () => {
    // Latency keeps the child mid-way long enough to be killed between and during batches.
    sandbox = await startSandbox({ files: 50, seed: 21, faults: { latencyMs: 10 } });
    const files = uploadOld(sandbox, FILES, { metadata: { purge_group: "k1" } });
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-plan-kill-"));
    if (kind === "postgres") server = await createTestDatabase("postgres");
    const open = async (): Promise<Database> => (kind === "postgres" ? server! : openDatabase({ dataDir }));
    const close = async (database: Database) => {
      if (kind === "pglite") await database.close();
    };

    let planId: string;
    let database = await open();
    try {
      await registerProjects(database.db, [{ projectKey: sandbox.publicKey, name: "kill", isDemo: false }]);
      await syncFiles({ db: database.db, client: clientFor(database.db, sandbox), logger: silentLogger, now: () => new Date() }, { full: true });
      const deps = { db: database.db, now: () => new Date() };
      await createPolicy(deps, {
        projectKey: sandbox.publicKey,
        body: { name: "purge k1", template: "delete-old-with-metadata", params: { days: 1, metadataKey: "purge_group", metadataValue: "k1" } },
        actor: "test",
      });
      const plan = await proposePlan(deps, { projectKeys: [sandbox.publicKey], policy: "purge k1", actor: "alice" });
      expect(plan.fileCount).toBe(FILES);
      await approvePlan(deps, { planId: plan.id, projectKeys: [sandbox.publicKey], approver: "bob", reason: "k1 is obsolete" });
      planId = plan.id;
    } finally {
      await close(database);
    }

    const env = cliEnv(sandbox, kind === "postgres" ? { databaseUrl: server!.url! } : { dataDir }, { UCLEDGER_SCHEDULER: "off" });

    for (let i = 1; i <= KILLS; i++) {
      const { child, done } = spawnCli(["plan", "apply", planId, "--yes"], env);
      await waitForDeletes(sandbox, i * 2);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 30)));
      child.kill("SIGKILL");
      expect((await done).signal).toBe("SIGKILL");
    }
    expect(batchRequests(sandbox, "DELETE").flat().length).toBeLessThan(FILES);

    const final = await runCli(["plan", "apply", planId, "--yes"], env);
    expect(final.stderr).not.toMatch(/error/i);
    expect(final.code).toBe(0);
    expect(final.stdout).toMatch(new RegExp(`plan ${planId}: applied`));

    // The request log: each file in exactly one batch delete, across all three processes.
    const sent = batchRequests(sandbox, "DELETE").flat();
    expect(sent.length).toBe(new Set(sent).size);
    expect([...sent].sort()).toEqual([...files].sort());
    const upstream = await allSandboxFiles(sandbox);
    expect(files.every((u) => upstream.get(u)?.datetime_removed)).toBe(true);

    database = await open();
    try {
      const [counts] = await queryRows<{ done: number; other: number }>(
        database.db,
        sql`select count(*) filter (where status = 'done')::int as done, count(*) filter (where status <> 'done')::int as other
            from plan_items where plan_id = ${planId}::uuid`,
      );
      expect(counts).toEqual({ done: FILES, other: 0 });
      const removed = await queryRows<{ file_uuid: string; n: number }>(
        database.db,
        sql`select file_uuid::text, count(*)::int as n from file_events where plan_id = ${planId} and kind = 'removed' group by file_uuid`,
      );
      expect(removed.length).toBe(FILES);
      expect(removed.every((r) => r.n === 1)).toBe(true);
      const [ledger] = await queryRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from files where project_key = ${sandbox.publicKey} and uuid = any(${sql.param(files)}::uuid[]) and datetime_removed is not null`,
      );
      expect(ledger?.n).toBe(FILES);
      const [plan] = await queryRows<{ status: string }>(database.db, sql`select status from plans where id = ${planId}::uuid`);
      expect(plan?.status).toBe("applied");
      expect((await verifyChain(database.db, sandbox.publicKey)).ok).toBe(true);
    } finally {
      await close(database);
    }
  }, 240_000);
});
