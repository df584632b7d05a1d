import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/query.ts";
import type { ReferenceSourceSettings } from "../../src/env.ts";
import { silentLogger } from "../../src/logger.ts";
import { pullReferences } from "../../src/sync/references/pull.ts";
import { replaceReferences } from "../../src/sync/references/replace.ts";
import { insertFiles, uuidOf } from "../api/helpers.ts";
import { createTestDatabase, type TestDatabase } from "../support/db.ts";
import { clock, deps, referencedUuids, refsOf, statuses, stream } from "./helpers.ts";

const serverUrl = process.env.TEST_DATABASE_URL;
if (!serverUrl) {
  // Loud, not silent: a pull source reads another PostgreSQL database, which embedded PGlite cannot serve.
  process.stdout.write("\n[ucledger tests] NOT RUN: reference pull-source tests need TEST_DATABASE_URL (a PostgreSQL server)\n\n");
}

const PUSHED = "refs-pull-pushed";
const PULLED = "refs-pull-pulled";

describe.skipIf(!serverUrl)("a pull source reading the application's own PostgreSQL (needs TEST_DATABASE_URL)", () => {
  let database: TestDatabase;
  let appUrl: string;
  const appName = `ucledger_app_${randomBytes(5).toString("hex")}`;
  const uuids = Array.from({ length: 3_000 }, (_, i) => uuidOf(i, 31));
  // The application's table: some rows with values that name no file, and one ref with two images.
  const refs = [...refsOf(uuids.slice(0, 2_500)), { ref: "orders/x", value: "https://example.net/a.png" }, { ref: "orders/0", value: uuids[2_999]! }];

  const source = (over: Partial<NonNullable<ReferenceSourceSettings["pull"]>> = {}, name = "app-db"): ReferenceSourceSettings => ({
    name,
    projectKey: PULLED,
    staleAfterHours: 24,
    pull: { url: appUrl, query: "select order_ref as ref, image_url as value from order_images", schedule: "0 * * * *", statementTimeoutMs: 5_000, ...over },
  });

  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${appName}`);
    } finally {
      await admin.end();
    }
    const url = new URL(serverUrl!);
    url.pathname = `/${appName}`;
    appUrl = url.toString();
    const app = new pg.Client({ connectionString: appUrl });
    await app.connect();
    try {
      await app.query("create table order_images (order_ref text not null, image_url text)");
      await app.query("create sequence app_seq");
      await app.query("insert into order_images select r->>'ref', r->>'value' from jsonb_array_elements($1::jsonb) r", [JSON.stringify(refs)]);
    } finally {
      await app.end();
    }
    for (const projectKey of [PUSHED, PULLED]) {
      await insertFiles(database.db, uuids.map((uuid, i) => ({ projectKey, uuid, uploaded: new Date(Date.parse("2026-01-01T00:00:00Z") + i * 1000).toISOString() })));
    }
  });
  afterAll(async () => {
    await database?.close();
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${appName} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  });

  it("gives the same result as pushing the same rows", async () => {
    const t = clock("2026-03-01T00:00:00Z");
    const pushed = await replaceReferences(deps(database.db, t.now), { projectKey: PUSHED, source: "app-db", kind: "push", references: stream(refs), force: false, actor: "test" });
    const settings = { maxDropShare: 0.1, cdnDomains: ["cdn.example.com"], sources: [source()] };
    const pulled = await pullReferences({ db: database.db, now: t.now, settings, logger: silentLogger }, { source: source() });
    const { snapshotId: _a, projectKey: _b, ...pushedFigures } = pushed;
    const { snapshotId: _c, projectKey: _d, ...pulledFigures } = pulled;
    expect(pulledFigures).toEqual(pushedFigures);
    expect(pulled).toMatchObject({ size: 2_501, unresolved: 1, nowReferenced: 2_501 });

    const a = await statuses(database.db, PUSHED, t.now());
    const b = await statuses(database.db, PULLED, t.now());
    expect(referencedUuids(b)).toEqual(referencedUuids(a));
    expect([...b.values()].map((s) => [s.uuid, s.is_referenced, s.unreferenced_since]).sort()).toEqual(
      [...a.values()].map((s) => [s.uuid, s.is_referenced, s.unreferenced_since]).sort(),
    );
    const [row] = await queryRows<{ kind: string; refs: number; last_error: string | null }>(
      database.db,
      sql`select kind, refs, last_error from reference_sources where project_key = ${PULLED} and source = 'app-db'`,
    );
    expect(row).toEqual({ kind: "pull", refs: 2_501, last_error: null });
  });

  it("reads only: a query that writes fails, nothing changes, and the failure is kept on the source", async () => {
    const t = clock("2026-03-02T00:00:00Z");
    const writes = source({ query: "select 'r' as ref, nextval('app_seq')::text as value" });
    const settings = { maxDropShare: 0.1, cdnDomains: [], sources: [writes] };
    await expect(pullReferences({ db: database.db, now: t.now, settings, logger: silentLogger }, { source: writes })).rejects.toThrow(
      /pull source app-db: cannot execute nextval\(\) in a read-only transaction/,
    );
    const [row] = await queryRows<{ refs: number; last_error: string }>(database.db, sql`select refs, last_error from reference_sources where project_key = ${PULLED} and source = 'app-db'`);
    expect(row).toEqual({ refs: 2_501, last_error: "cannot execute nextval() in a read-only transaction" });
  });

  it("runs one statement only, within the statement timeout, and needs ref and value columns", async () => {
    const t = clock("2026-03-02T00:00:00Z");
    const run = (s: ReferenceSourceSettings) => pullReferences({ db: database.db, now: t.now, settings: { maxDropShare: 0.1, cdnDomains: [], sources: [s] }, logger: silentLogger }, { source: s });
    await expect(run(source({ query: "select 'a' as ref, 'b' as value; drop table order_images" }))).rejects.toThrow(/cannot insert multiple commands into a prepared statement/);
    await expect(run(source({ query: "select 'a' as ref, pg_sleep(2)::text as value", statementTimeoutMs: 200 }))).rejects.toThrow(/canceling statement due to statement timeout/);
    await expect(run(source({ query: "select 'a' as name, 'b' as url" }))).rejects.toThrow(/the query must return columns named ref and value \(it returns name, url\)/);
    const app = new pg.Client({ connectionString: appUrl });
    await app.connect();
    try {
      expect((await app.query("select count(*)::int as n from order_images")).rows).toEqual([{ n: refs.length }]);
    } finally {
      await app.end();
    }
  });

  it("never shows the password of the application's database", async () => {
    const url = new URL(appUrl);
    url.username = "nobody_here";
    url.password = "s3cr3t-pa55";
    url.hostname = "127.0.0.1";
    const bad = { ...source({ url: url.toString() }), name: "bad-pw" };
    const err = await pullReferences({ db: database.db, now: () => new Date(), settings: { maxDropShare: 0.1, cdnDomains: [], sources: [bad] }, logger: silentLogger }, { source: bad }).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).not.toContain("s3cr3t-pa55");
    const [row] = await queryRows<{ last_error: string; last_reported_at: string | null }>(
      database.db,
      sql`select last_error, last_reported_at from reference_sources where project_key = ${PULLED} and source = 'bad-pw'`,
    );
    expect(row!.last_error).not.toContain("s3cr3t-pa55");
    // Registered although it never reported: a stale source, which keeps every file of the project from being an orphan.
    expect(row!.last_reported_at).toBeNull();
  });
});
