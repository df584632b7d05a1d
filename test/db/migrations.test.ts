import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { queryRows } from "../../src/db/query.ts";

describe.each(backends)("migrations on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("creates the core tables analysts see", async () => {
    const rows = await queryRows<{ table_name: string }>(
      database.db,
      sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    const names = rows.map((r) => r.table_name);
    for (const table of ["projects", "files", "file_events", "sync_runs", "usage_daily", "api_requests"]) {
      expect(names).toContain(table);
    }
  });

  it("keys every primary key and unique constraint by project first", async () => {
    // Deployment-level tables (API tokens, their access log, dashboard sessions) belong to no project.
    const deploymentLevel = ["api_tokens", "api_access_log", "dashboard_sessions"];
    const rows = await queryRows<{ table_name: string; column_name: string }>(database.db, sql`
      select tc.table_name, tc.constraint_name, kcu.column_name
      from information_schema.table_constraints tc
      join information_schema.key_column_usage kcu
        on kcu.constraint_name = tc.constraint_name and kcu.table_schema = tc.table_schema and kcu.ordinal_position = 1
      where tc.table_schema = 'public' and tc.constraint_type in ('PRIMARY KEY', 'UNIQUE')
        and tc.table_name not like 'api_requests_%'
        and tc.table_name <> all(${sql.param(deploymentLevel)}::text[])`);
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) {
      expect(`${row.table_name}.${row.column_name}`).toBe(`${row.table_name}.project_key`);
    }
  });

  it("is a no-op when applied again", async () => {
    const { openDatabase } = await import("../../src/db/client.ts");
    if (kind === "postgres") {
      const again = await openDatabase({ url: database.url });
      await again.close();
    }
    const [count] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    expect(count?.n).toBeGreaterThanOrEqual(2);
  });

  it("registers projects idempotently", async () => {
    await registerProjects(database.db, [{ projectKey: "mig-p1", name: "one", isDemo: false }]);
    await registerProjects(database.db, [{ projectKey: "mig-p1", name: "one renamed", isDemo: false }]);
    expect(await queryRows(database.db, sql`select name from projects where project_key = 'mig-p1'`)).toEqual([{ name: "one renamed" }]);
  });

  it("reads microsecond timestamps back unchanged, in UTC", async () => {
    expect(await queryRows(database.db, sql`select '2018-11-27T01:00:43.001705Z'::timestamptz(6)::text as t`)).toEqual([
      { t: "2018-11-27 01:00:43.001705+00" },
    ]);
  });
});
