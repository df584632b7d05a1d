import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { sameJson } from "../../src/db/audit/canonical-json.ts";
import { verifyChain } from "../../src/db/audit/verify.ts";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { queryRows } from "../../src/db/query.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, ledgerFiles } from "../support/uploadcare.ts";
import { runCli, spawnCli } from "../support/cli.ts";
import { until } from "../support/wait.ts";

const KILLS = 4;
const FILES = 6_000;

/** Resolves once the sandbox has served `count` list requests in all. */
const waitForListRequests = (sandbox: Sandbox, count: number) =>
  until(`${count} list requests from the child`, () => sandbox.requests().filter((r) => r.path === "/files/").length >= count, { intervalMs: 5 });

describe.each(backends)("a sync killed with SIGKILL and restarted on %s", (kind) => {
  let sandbox: Sandbox | undefined;
  let server: TestDatabase | undefined;
  afterAll(async () => {
    await sandbox?.close();
    await server?.close();
  });

  it("ends equal to Uploadcare with no duplicate events, and audit verify passes then catches tampering", async () => {
    sandbox = await startSandbox({ files: FILES, seed: 99, faults: { latencyMs: 40 } });
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-kill-"));
    if (kind === "postgres") server = await createTestDatabase("postgres");
    const env: Record<string, string> = {
      UPLOADCARE_PUBLIC_KEY: sandbox.publicKey,
      UPLOADCARE_SECRET_KEY: sandbox.secretKey,
      UPLOADCARE_API_BASE: sandbox.url,
      ...(kind === "postgres" ? { DATABASE_URL: server!.url! } : { UCLEDGER_DATA_DIR: dataDir }),
    };

    // Kill the child at a random point: after a random number of pages, plus a random moment.
    const killedAt: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const served = sandbox.requests().filter((r) => r.path === "/files/").length;
      const { child, done } = spawnCli(["sync", "files", "--full", "--json"], env);
      const pages = 1 + Math.floor(Math.random() * 5);
      await waitForListRequests(sandbox, served + pages);
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 60)));
      child.kill("SIGKILL");
      const result = await done;
      expect(result.signal).toBe("SIGKILL");
      killedAt.push(pages);
    }
    expect(killedAt).toHaveLength(KILLS);

    const final = await runCli(["sync", "files", "--full", "--json"], env);
    expect(final.stderr).toBe("");
    expect(final.code).toBe(0);
    const summary = JSON.parse(final.stdout.trim().split("\n").at(-1)!);
    expect(summary).toMatchObject({ stream: "files", status: "ok" });
    expect(Object.keys(summary).sort()).toEqual(["changed", "duration_ms", "inserted", "pages", "seen", "status", "stream"]);

    let database: Database = kind === "postgres" ? server! : await openDatabase({ dataDir });
    try {
      const upstream = await allSandboxFiles(sandbox);
      const ledger = await ledgerFiles(database.db, sandbox.publicKey);
      expect(ledger.size).toBe(FILES);
      expect([...upstream].filter(([uuid, file]) => !sameJson(ledger.get(uuid), file))).toEqual([]);
      const duplicates = await queryRows<{ file_uuid: string; kind: string; n: number }>(
        database.db,
        sql`select file_uuid::text, kind, count(*)::int as n from file_events where project_key = ${sandbox.publicKey}
            group by file_uuid, kind having count(*) > 1`,
      );
      expect(duplicates).toEqual([]);
      const [uploaded] = await queryRows<{ n: number }>(
        database.db,
        sql`select count(*)::int as n from file_events where project_key = ${sandbox.publicKey} and kind = 'uploaded'`,
      );
      expect(uploaded?.n).toBe(FILES);
      expect((await verifyChain(database.db, sandbox.publicKey)).ok).toBe(true);
    } finally {
      if (kind === "pglite") await database.close();
    }

    const clean = await runCli(["audit", "verify"], env);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(new RegExp(`${sandbox.publicKey}: chain intact, \\d+ events`));

    // Tamper as a superuser would: disable the guard trigger, edit a row, enable it again.
    database = kind === "postgres" ? server! : await openDatabase({ dataDir });
    try {
      await database.db.execute(sql`alter table file_events disable trigger file_events_append_only`);
      await database.db.execute(sql`update file_events set actor = 'mallory' where project_key = ${sandbox.publicKey} and seq = 42`);
      await database.db.execute(sql`alter table file_events enable trigger file_events_append_only`);
    } finally {
      if (kind === "pglite") await database.close();
    }
    const tampered = await runCli(["audit", "verify"], env);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toContain(`${sandbox.publicKey}: chain BROKEN at event 42: the event's content does not match its hash`);
  }, 240_000);
});
