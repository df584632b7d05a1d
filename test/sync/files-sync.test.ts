import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { sameJson } from "../../src/db/audit/canonical-json.ts";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, clientFor, events, lastSeq, ledgerFiles, sandboxApi, sandboxWithProject } from "../support/uploadcare.ts";

async function expectLedgerEqualsSandbox(database: TestDatabase, sandbox: Sandbox): Promise<number> {
  const upstream = await allSandboxFiles(sandbox);
  const ledger = await ledgerFiles(database.db, sandbox.publicKey);
  expect(ledger.size).toBe(upstream.size);
  const differing = [...upstream].filter(([uuid, file]) => !sameJson(ledger.get(uuid), file)).map(([uuid]) => uuid);
  expect(differing).toEqual([]);
  return upstream.size;
}

describe.each(backends)("file sync on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: Sandbox;
  const sync = (full: boolean) =>
    syncFiles({ db: database.db, client: clientFor(database.db, sandbox), logger: silentLogger, now: () => new Date() }, { full });

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    sandbox = await sandboxWithProject(database.db, { files: 5_000, seed: 7 });
  });
  afterAll(async () => {
    await sandbox?.close();
    await database?.close();
  });

  it("makes a first full sync equal to Uploadcare, every file and every field", async () => {
    const summaries = await sync(true);
    // No baseline yet: the new-files and reconciliation lanes are one backfill that lists each file once.
    expect(summaries.map((s) => [s.lane, s.status])).toEqual([["webhooks", "ok"], ["backfill", "ok"]]);
    expect(summaries[1]!.seen).toBe(5_000);
    const count = await expectLedgerEqualsSandbox(database, sandbox);
    expect(count).toBe(5_000);
    const [uploaded] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from file_events where project_key = ${sandbox.publicKey} and kind = 'uploaded'`,
    );
    expect(uploaded?.n).toBe(5_000);
  });

  it("writes nothing and records no events on a second run", async () => {
    const before = await lastSeq(database.db, sandbox.publicKey);
    const [{ max: updatedBefore }] = await queryRows<{ max: string }>(
      database.db,
      sql`select max(updated_at)::text as max from files where project_key = ${sandbox.publicKey}`,
    ) as [{ max: string }];
    const summaries = await sync(true);
    expect(summaries.every((s) => s.status === "ok" && s.inserted === 0 && s.changed === 0)).toBe(true);
    expect(await lastSeq(database.db, sandbox.publicKey)).toBe(before);
    const [{ max: updatedAfter }] = await queryRows<{ max: string }>(
      database.db,
      sql`select max(updated_at)::text as max from files where project_key = ${sandbox.publicKey}`,
    ) as [{ max: string }];
    expect(updatedAfter).toBe(updatedBefore);
  });

  it("records stores, deletes, metadata edits and uploads as exactly the expected events", async () => {
    const start = await lastSeq(database.db, sandbox.publicKey);
    const files = [...(await allSandboxFiles(sandbox)).values()];
    const unstored = files.filter((f) => f.datetime_stored === null && f.datetime_removed === null).slice(0, 3).map((f) => f.uuid);
    const live = files.filter((f) => f.datetime_stored !== null && f.datetime_removed === null);
    const toDelete = live.slice(0, 4).map((f) => f.uuid);
    const toTag = live[10]!.uuid;
    expect(unstored.length).toBe(3);

    expect((await sandboxApi(sandbox, "PUT", "/files/storage/", unstored)).status).toBe(200);
    expect((await sandboxApi(sandbox, "DELETE", "/files/storage/", toDelete)).status).toBe(200);
    expect((await sandboxApi(sandbox, "PUT", `/files/${toTag}/metadata/reviewed/`, "yes")).status).toBe(201);
    const uploaded = sandbox.upload({ count: 2, stored: true });

    // The new-files lane sees only the uploads; the full scan finds the rest.
    const quick = await sync(false);
    expect(quick.find((s) => s.lane === "new")?.inserted).toBe(2);
    await sync(true);
    const got = (await events(database.db, sandbox.publicKey, start)).map((e) => `${e.kind}:${e.file_uuid}`).sort();
    const expected = [
      ...unstored.map((u) => `stored:${u}`),
      ...toDelete.map((u) => `removed:${u}`),
      `metadata_changed:${toTag}`,
      // New files seen already stored: one `uploaded` event that records the stored state.
      ...uploaded.map((u) => `uploaded:${u}`),
    ].sort();
    expect(got).toEqual(expected);
    await expectLedgerEqualsSandbox(database, sandbox);
  });

  it("shows unstored files as removed once their 24 hours run out", async () => {
    const start = await lastSeq(database.db, sandbox.publicKey);
    const temp = sandbox.upload({ count: 2, stored: false });
    await sync(false);
    sandbox.advanceClock(25 * 3600);
    await sync(true);
    const all = await events(database.db, sandbox.publicKey, start);
    const got = all.filter((e) => temp.includes(e.file_uuid!)).map((e) => `${e.kind}:${e.file_uuid}`).sort();
    expect(got).toEqual(temp.flatMap((u) => [`uploaded:${u}`, `removed:${u}`]).sort());
    // The generated project's own unstored files expire too, and only as removals.
    expect(all.filter((e) => !temp.includes(e.file_uuid!)).every((e) => e.kind === "removed")).toBe(true);
    const rows = await queryRows<{ removed: string | null }>(
      database.db,
      sql`select datetime_removed::text as removed from files where project_key = ${sandbox.publicKey} and uuid = any(${sql.param(temp)}::uuid[])`,
    );
    expect(rows.every((r) => r.removed !== null)).toBe(true);
    await expectLedgerEqualsSandbox(database, sandbox);
  });
});
