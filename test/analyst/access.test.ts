import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAnalystCommand } from "../../src/cli/analyst.ts";
import { analystRoleOf } from "../../src/db/analyst-roles.ts";
import { EXPORT_VIEW_NAMES } from "../../src/db/queries/export-views.ts";
import { createToken } from "../../src/db/queries/tokens.ts";
import { queryRows } from "../../src/db/query.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { asAnalyst, dbError, seedReportingProject } from "./helpers.ts";

const P = "access-p";

/** Statements the analysts' role must be refused, whatever the backend. */
const REFUSED: [string, RegExp][] = [
  ["select * from public.files", /permission denied for table files/],
  ["select token_hash from public.api_tokens", /permission denied for table api_tokens/],
  ["select * from public.api_access_log", /permission denied for table api_access_log/],
  ["select * from public.daily_file_rollup", /permission denied for table daily_file_rollup/],
  ["select * from drizzle.__drizzle_migrations", /permission denied for schema drizzle/],
  ["insert into reporting.dim_project (project_key, project_name) values ('x', 'x')", /permission denied for view dim_project/],
  ["update reporting.dim_file set original_filename = 'x'", /permission denied for view dim_file/],
  ["insert into public.projects (project_key, name) values ('x', 'x')", /permission denied for table projects/],
  ["delete from public.files", /permission denied for table files/],
  ["create table public.analyst_scratch (a int)", /permission denied for schema public/],
  ["create table reporting.analyst_scratch (a int)", /permission denied for schema reporting/],
  ["create view reporting.analyst_scratch as select 1", /permission denied for schema reporting/],
];

function serverOnlyIo() {
  const out = { stdout: "", stderr: "" };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

describe.each(backends)("ucledger_analyst on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await seedReportingProject(database.db, P);
    await createToken(database.db, { name: "secret-holder", role: "admin", createdBy: "test", now: new Date() });
  });
  afterAll(async () => {
    await database?.close();
  });

  it("exists without login, with read-only transactions, a statement timeout and reporting on its search path", async () => {
    const [role] = await queryRows<{ rolcanlogin: boolean; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; setconfig: string[] }>(
      database.db,
      sql`select r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolcreatedb, s.setconfig
          from pg_roles r left join pg_db_role_setting s on s.setrole = r.oid and s.setdatabase = 0 where r.rolname = 'ucledger_analyst'`,
    );
    expect(role).toMatchObject({ rolcanlogin: false, rolsuper: false, rolcreaterole: false, rolcreatedb: false });
    expect(role!.setconfig).toEqual(expect.arrayContaining(["default_transaction_read_only=on", "search_path=reporting"]));
    expect(role!.setconfig.some((s) => s.startsWith("statement_timeout="))).toBe(true);
  });

  it("reads every reporting view", async () => {
    await asAnalyst(database, async (query) => {
      expect(await query("select current_user as who")).toEqual([{ who: "ucledger_analyst" }]);
      for (const view of EXPORT_VIEW_NAMES) {
        const rows = await query(`select * from reporting.${view} limit 5`);
        expect(rows.length, view).toBeGreaterThan(0);
      }
    });
  });

  it.each(REFUSED)("is refused: %s", async (statement, message) => {
    await asAnalyst(database, async (query) => {
      const err = await query(statement).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, statement).not.toBeNull();
      expect(dbError(err)).toMatchObject({ code: "42501", message: expect.stringMatching(message) });
    });
  });

  it("holds no privilege on any application table, sequence or on creating in schema public", async () => {
    const rows = await queryRows<{ name: string }>(
      database.db,
      sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
            and (case when c.relkind = 'S' then has_sequence_privilege('ucledger_analyst', c.oid, 'SELECT,USAGE,UPDATE')
                 else has_table_privilege('ucledger_analyst', c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER') end)`,
    );
    expect(rows).toEqual([]);
    const [schema] = await queryRows<{ public_create: boolean; reporting_create: boolean; reporting_usage: boolean }>(
      database.db,
      sql`select has_schema_privilege('ucledger_analyst', 'public', 'CREATE') as public_create,
                 has_schema_privilege('ucledger_analyst', 'reporting', 'CREATE') as reporting_create,
                 has_schema_privilege('ucledger_analyst', 'reporting', 'USAGE') as reporting_usage`,
    );
    expect(schema).toEqual({ public_create: false, reporting_create: false, reporting_usage: true });
  });

  it("reads a view added later without a new grant (default privileges)", async () => {
    await database.db.execute(sql`create view reporting.zz_later as select project_key from public.projects`);
    try {
      await asAnalyst(database, async (query) => {
        expect((await query("select count(*)::int as n from reporting.zz_later"))[0]).toEqual({ n: 1 });
      });
    } finally {
      await database.db.execute(sql`drop view reporting.zz_later`);
    }
  });

  if (kind === "pglite") {
    it("create-login says clearly that logins need a PostgreSQL server", async () => {
      const { out, io } = serverOnlyIo();
      const code = await runAnalystCommand({ database, serverUrl: undefined, io }, ["create-login", "--name", "someone"]);
      expect(code).toBe(1);
      expect(out.stdout).toBe("");
      expect(out.stderr).toMatch(/logins need a PostgreSQL server/);
      expect(out.stderr).toMatch(/DATABASE_URL/);
    });
  }

  if (kind === "postgres") {
    it("creates the role once when migrations run in several databases of one server at the same moment", async () => {
      // The migration's own DO block, on a role of this test's own, in three databases at once.
      const migration = readFileSync(new URL("../../migrations/0006_reporting_views.sql", import.meta.url), "utf8");
      const block = /^DO \$\$[\s\S]*?^\$\$;/m.exec(migration)?.[0];
      expect(block).toBeDefined();
      const role = `analyst_race_${randomBytes(4).toString("hex")}`;
      const others = [await createTestDatabase("postgres"), await createTestDatabase("postgres")];
      const urls = [database.url!, ...others.map((d) => d.url!)];
      try {
        const outcomes = await Promise.allSettled(
          urls.map(async (url) => {
            const client = new pg.Client({ connectionString: url });
            await client.connect();
            try {
              await client.query("begin");
              await client.query(block!.replaceAll("ucledger_analyst", role));
              await client.query("commit");
            } finally {
              await client.end();
            }
          }),
        );
        expect(outcomes.filter((o) => o.status === "rejected")).toEqual([]);
        for (const url of urls) {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            const { rows } = await client.query(
              `select has_schema_privilege($1, 'reporting', 'USAGE') as usage, has_table_privilege($1, 'reporting.dim_file', 'SELECT') as dim_file,
                      has_table_privilege($1, 'public.files', 'SELECT') as files,
                      (select setconfig from pg_db_role_setting s join pg_roles r on r.oid = s.setrole where r.rolname = $1 and s.setdatabase = 0) as settings`,
              [role],
            );
            expect(rows[0]).toEqual({
              usage: true,
              dim_file: true,
              files: false,
              settings: ["default_transaction_read_only=on", "statement_timeout=120s", "search_path=reporting"],
            });
          } finally {
            await client.end();
          }
        }
      } finally {
        for (const url of urls) {
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          await client.query(`drop owned by ${role}`).catch(() => undefined);
          await client.end();
        }
        const admin = new pg.Client({ connectionString: database.url! });
        await admin.connect();
        await admin.query(`drop role if exists ${role}`);
        await admin.end();
        for (const other of others) await other.close();
      }
    });

    describe("a login made by create-login", () => {
      const name = `analyst_t_${randomBytes(4).toString("hex")}`;
      let url: string;
      let client: pg.Client;
      let connected = false;
      let group: string;

      beforeAll(async () => {
        group = await analystRoleOf(database.db);
        const { out, io } = serverOnlyIo();
        const code = await runAnalystCommand({ database, serverUrl: database.url, io }, ["create-login", "--name", name, "--json"]);
        expect(out.stderr).toBe("");
        expect(code).toBe(0);
        const printed = JSON.parse(out.stdout) as { name: string; password: string; url: string };
        expect(printed.name).toBe(name);
        expect(printed.password.length).toBeGreaterThanOrEqual(32);
        url = printed.url;
        expect(new URL(url).username).toBe(name);
        expect(new URL(url).pathname).toBe(new URL(database.url!).pathname);
        client = new pg.Client({ connectionString: url });
        await client.connect();
        connected = true;
      });
      afterAll(async () => {
        if (connected) await client.end();
        // Roles belong to the whole server: never leave one behind.
        const { io } = serverOnlyIo();
        await runAnalystCommand({ database, serverUrl: database.url, io }, ["drop-login", "--name", name]).catch(() => undefined);
        await database.db.execute(sql.raw(`drop owned by ${group}`)).catch(() => undefined);
        await database.db.execute(sql.raw(`drop role if exists ${group}`)).catch(() => undefined);
      });

      it("logs in as itself, a member of this database's analysts' role (not the shared one), read-only with a timeout and reporting first", async () => {
        const [row] = (
          await client.query("select current_user as who, pg_has_role(current_user, $1, 'MEMBER') as member, pg_has_role(current_user, 'ucledger_analyst', 'MEMBER') as shared", [
            group,
          ])
        ).rows;
        expect(row).toEqual({ who: name, member: true, shared: false });
        expect((await client.query("show default_transaction_read_only")).rows[0]).toEqual({ default_transaction_read_only: "on" });
        expect((await client.query("show statement_timeout")).rows[0].statement_timeout).toBe("2min");
        expect((await client.query("show search_path")).rows[0].search_path).toBe("reporting");
        const { rows } = await client.query("select count(*)::int as n from dim_file");
        expect(rows[0].n).toBeGreaterThan(40);
      });

      it("reads every view and nothing else, and cannot write even after turning read-only off", async () => {
        for (const view of EXPORT_VIEW_NAMES) expect((await client.query(`select * from reporting.${view} limit 1`)).rows.length, view).toBe(1);
        await expect(client.query("create temporary table scratch (a int)")).rejects.toThrow(/cannot execute CREATE TABLE in a read-only transaction/);
        await client.query("set default_transaction_read_only = off");
        await expect(client.query("create temporary table scratch (a int)")).rejects.toThrow(/permission denied to create temporary tables/);
        for (const [statement, message] of REFUSED) {
          const err = await client.query(statement).then(() => null, (e: unknown) => e);
          expect(dbError(err), statement).toMatchObject({ code: "42501", message: expect.stringMatching(message) });
        }
      });

      it("works from psql", () => {
        const psql = spawnSync("psql", ["--version"]);
        if (psql.status !== 0) throw new Error("psql is not installed on this machine");
        const out = execFileSync("psql", [url, "-Atc", "select count(*) > 0 from reporting.fct_daily_files"], { encoding: "utf8" });
        expect(out.trim()).toBe("t");
        const refused = spawnSync("psql", [url, "-Atc", "select count(*) from public.api_tokens"], { encoding: "utf8" });
        expect(refused.status).not.toBe(0);
        expect(refused.stderr).toMatch(/permission denied for table api_tokens/);
      });

      it("refuses a second login of the same name, and drop-login removes it", async () => {
        const again = serverOnlyIo();
        expect(await runAnalystCommand({ database, serverUrl: database.url, io: again.io }, ["create-login", "--name", name])).toBe(1);
        expect(again.out.stderr).toMatch(/already exists/);

        const notAnalyst = serverOnlyIo();
        expect(await runAnalystCommand({ database, serverUrl: database.url, io: notAnalyst.io }, ["drop-login", "--name", "postgres"])).toBe(1);
        expect(notAnalyst.out.stderr).toMatch(/not an analyst login/);

        await client.end();
        connected = false;
        const dropped = serverOnlyIo();
        expect(await runAnalystCommand({ database, serverUrl: database.url, io: dropped.io }, ["drop-login", "--name", name])).toBe(0);
        const [gone] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from pg_roles where rolname = ${name}`);
        expect(gone).toEqual({ n: 0 });
        await expect(new pg.Client({ connectionString: url }).connect()).rejects.toThrow(/does not exist/);
      });
    });
  }
});
