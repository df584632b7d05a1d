import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sameJson } from "../../src/db/audit/canonical-json.ts";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, clientFor, ledgerFiles, sandboxWithProject } from "../support/uploadcare.ts";

describe.each(backends)("file sync through a faulty Uploadcare on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: Sandbox;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    sandbox = await sandboxWithProject(database.db, { files: 3_000, seed: 23 });
  });
  afterAll(async () => {
    await sandbox?.close();
    await database?.close();
  });

  it("ends exact with 10% 5xx, 5% 429 and 2% truncated bodies, and logs every attempt", async () => {
    const expected = await allSandboxFiles(sandbox);
    // The rates are drawn at random; two certain truncations make sure that kind is exercised too.
    sandbox.setFaults({ errorRate: 0.1, throttleRate: 0.05, truncateRate: 0.02, retryAfterS: 1, truncateNext: 2 });
    // A small page size makes enough requests for every kind of fault to occur.
    const client = clientFor(database.db, sandbox, undefined, 100);
    let summaries;
    let rounds = 0;
    do {
      summaries = await syncFiles({ db: database.db, client, logger: silentLogger, now: () => new Date() }, { full: true });
      rounds += 1;
    } while (summaries.some((s) => s.status !== "ok") && rounds < 3);
    sandbox.resetFaults();
    expect(summaries.map((s) => [s.lane, s.status])).toEqual([["webhooks", "ok"], ["backfill", "ok"]]);

    const ledger = await ledgerFiles(database.db, sandbox.publicKey);
    expect(ledger.size).toBe(expected.size);
    expect([...expected].filter(([uuid, file]) => !sameJson(ledger.get(uuid), file))).toEqual([]);

    const statuses = await queryRows<{ status: number | null; error: string | null; retry_after_s: number | null }>(
      database.db,
      sql`select status, error, retry_after_s from api_requests where project_key = ${sandbox.publicKey} and source = 'ucledger'`,
    );
    expect(statuses.some((r) => r.status !== null && r.status >= 500)).toBe(true);
    expect(statuses.some((r) => r.status === 429 && Number(r.retry_after_s) === 1)).toBe(true);
    expect(statuses.some((r) => r.error?.startsWith("unreadable JSON body"))).toBe(true);
    const [{ n: duplicates }] = (await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from (select file_uuid, kind from file_events where project_key = ${sandbox.publicKey}
          group by file_uuid, kind having count(*) > 1) d`,
    )) as [{ n: number }];
    expect(duplicates).toBe(0);
  });

  it("records a run that cannot get through as failed, keeping its checkpoint", async () => {
    const before = await queryRows(database.db, sql`select cursor from sync_checkpoints where project_key = ${sandbox.publicKey}`);
    sandbox.setFaults({ errorRate: 1 });
    const client = clientFor(database.db, sandbox, { maxAttempts: 2, backoffBaseMs: 1, backoffCapMs: 2 });
    const [summary] = await syncFiles({ db: database.db, client, logger: silentLogger, now: () => new Date() }, { lanes: ["new"] });
    sandbox.resetFaults();
    expect(summary).toMatchObject({ status: "failed", pages: 0 });
    expect(summary!.error).toMatch(/^GET \/files\/ answered 5\d\d.*gave up after 2 attempts/);
    const [run] = await queryRows<{ status: string; error: string }>(
      database.db,
      sql`select status, error from sync_runs where project_key = ${sandbox.publicKey} and id = ${summary!.runId}`,
    );
    expect(run).toEqual({ status: "failed", error: summary!.error });
    expect(await queryRows(database.db, sql`select cursor from sync_checkpoints where project_key = ${sandbox.publicKey}`)).toEqual(before);
  });
});
