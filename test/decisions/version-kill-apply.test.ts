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
import { uploadPngs, versionPolicy } from "./version-helpers.ts";
import { until } from "../support/wait.ts";

const FILES = 300;
const KILLS = 2;

const localCopies = (sandbox: Sandbox) => sandbox.requests().filter((r) => r.method === "POST" && r.path === "/files/local_copy/");

const waitForCopies = (sandbox: Sandbox, count: number) => until(`${count} local copies`, () => localCopies(sandbox).length >= count, { intervalMs: 2 });

describe.each(backends)("a version apply killed with SIGKILL and run again on %s", (kind) => {
  let sandbox: Sandbox | undefined;
  let server: TestDatabase | undefined;
  afterAll(async () => {
    await sandbox?.close();
    await server?.close();
  });

  it("ends with exactly one stored copy per original, each original deleted after its copy", async () => {
    sandbox = await startSandbox({ files: 20, seed: 23, faults: { latencyMs: 10 } });
    const pngs = uploadPngs(sandbox, FILES, "kill");
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-version-kill-"));
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
      await createPolicy(deps, { projectKey: sandbox.publicKey, body: versionPolicy("webp kill", "kill"), actor: "test" });
      const plan = await proposePlan(deps, { projectKeys: [sandbox.publicKey], policy: "webp kill", actor: "alice" });
      expect(plan.fileCount).toBe(FILES);
      await approvePlan(deps, { planId: plan.id, projectKeys: [sandbox.publicKey], approver: "bob", reason: "lighter originals" });
      planId = plan.id;
    } finally {
      await close(database);
    }

    const env = cliEnv(sandbox, kind === "postgres" ? { databaseUrl: server!.url! } : { dataDir }, { UCLEDGER_SCHEDULER: "off" });

    for (let i = 1; i <= KILLS; i++) {
      const { child, done } = spawnCli(["plan", "apply", planId, "--yes"], env);
      // Killed while copies are in flight: some answered and not recorded, some sent and not answered.
      await waitForCopies(sandbox, i * 60 + Math.floor(Math.random() * 20));
      child.kill("SIGKILL");
      expect((await done).signal).toBe("SIGKILL");
    }
    expect(localCopies(sandbox).length).toBeLessThan(FILES);

    const final = await runCli(["plan", "apply", planId, "--yes"], env);
    expect(final.stderr).not.toMatch(/error/i);
    expect(final.code).toBe(0);
    expect(final.stdout).toMatch(new RegExp(`plan ${planId}: applied`));

    const upstream = await allSandboxFiles(sandbox);
    const copies = [...upstream.values()].filter((f) => f.metadata?.["ucledger_plan"] === planId);
    const originals = copies.map((f) => f.metadata!["ucledger_version_of"]!);
    expect(copies).toHaveLength(FILES);
    expect([...originals].sort()).toEqual([...pngs].sort());
    expect(copies.every((f) => f.datetime_stored && !f.datetime_removed)).toBe(true);
    expect(pngs.every((u) => upstream.get(u)?.datetime_removed)).toBe(true);
    // Each original went into exactly one batch delete, after its copy was made.
    const log = sandbox.requests();
    const deleted = log.filter((r) => r.method === "DELETE" && r.path === "/files/storage/").flatMap((r) => (r.body as string[]).map((u) => ({ u, seq: r.seq })));
    expect(new Set(deleted.map((d) => d.u)).size).toBe(FILES);
    const madeAt = new Map(localCopies(sandbox).filter((r) => r.status === 201).map((r) => [(r.body as { source: string }).source.split("/")[0]!, r.seq]));
    expect(deleted.every((d) => (madeAt.get(d.u) ?? Infinity) < d.seq)).toBe(true);

    database = await open();
    try {
      const [counts] = await queryRows<{ done: number; other: number; links: number }>(
        database.db,
        sql`select count(*) filter (where status = 'done')::int as done, count(*) filter (where status <> 'done')::int as other,
                   (select count(*)::int from file_versions where plan_id = ${planId}::uuid) as links
            from plan_items where plan_id = ${planId}::uuid`,
      );
      expect(counts).toEqual({ done: FILES, other: 0, links: FILES });
      const [linked] = await queryRows<{ n: number }>(
        database.db,
        sql`select count(distinct v.copy_uuid)::int as n from file_versions v join plan_items i on i.plan_id = v.plan_id and i.copy_uuid = v.copy_uuid
            where v.plan_id = ${planId}::uuid and v.copy_uuid = any(${sql.param(copies.map((c) => c.uuid))}::uuid[])`,
      );
      expect(linked?.n).toBe(FILES);
      expect((await verifyChain(database.db, sandbox.publicKey)).ok).toBe(true);
    } finally {
      await close(database);
    }
  }, 300_000);
});
