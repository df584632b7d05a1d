import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAnalystCommand } from "../../src/cli/analyst.ts";
import { analystRoleName, analystRoleOf } from "../../src/db/analyst-roles.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { EXPORT_VIEW_NAMES } from "../../src/db/queries/export-views.ts";
import { grantService } from "../../src/db/service-grants.ts";
import { queryRows } from "../../src/db/query.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { asAnalyst, dbError } from "./helpers.ts";

function captureIo() {
  const out = { stdout: "", stderr: "" };
  return { out, io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) } };
}

async function run(database: TestDatabase, argv: string[]) {
  const { out, io } = captureIo();
  const code = await runAnalystCommand({ database, serverUrl: database.url, io }, argv);
  return { code, ...out };
}

/** Roles belong to the whole server: a test's group role goes with its database. */
async function dropGroupRole(database: TestDatabase, role: string): Promise<void> {
  await database.db.execute(sql.raw(`drop owned by ${role}`)).catch(() => undefined);
  await database.db.execute(sql.raw(`drop role if exists ${role}`)).catch(() => undefined);
}

async function refusal(promise: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).not.toBeNull();
  return dbError(err);
}

describe("the analysts' role name of a database", () => {
  it("is ucledger_analyst_<database> when the name fits as it is", () => {
    expect(analystRoleName("ledger_a")).toBe("ucledger_analyst_ledger_a");
  });

  it("gets a hash suffix when the name had to change, so similar names never share a role", () => {
    const names = ["ledger_a", "ledger-a", "Ledger_A", "ledger.a"].map((db) => analystRoleName(db));
    expect(new Set(names).size).toBe(4);
    for (const name of names.slice(1)) expect(name).toMatch(/^ucledger_analyst_ledger_a_[0-9a-f]{8}$/);
  });

  it("stays within 63 bytes for long names, and two long names that differ only at the end differ", () => {
    const a = analystRoleName(`${"x".repeat(60)}_one`);
    const b = analystRoleName(`${"x".repeat(60)}_two`);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(b.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9_]+$/);
  });

  it("is UCLEDGER_ANALYST_ROLE when that is set", () => {
    expect(analystRoleName("ledger_a", "bi_readers")).toBe("bi_readers");
  });
});

describe.each(backends)("analyst setup on %s", (kind) => {
  let database: TestDatabase;
  let role: string;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await registerProjects(database.db, [{ projectKey: "perdb-p", name: "perdb", isDemo: false }]);
    role = await analystRoleOf(database.db);
  });
  afterAll(async () => {
    if (database) await dropGroupRole(database, role);
    await database?.close();
  });

  it("creates a NOLOGIN role for this database, then renews it when run again", async () => {
    const first = await run(database, ["setup"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^created role ${role}: CONNECT on database \\S+ only`));
    const again = await run(database, ["setup"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^renewed role ${role}:`));
    const [row] = await queryRows<{ rolcanlogin: boolean; rolsuper: boolean; member_of_shared: boolean; setconfig: string[] }>(
      database.db,
      sql`select r.rolcanlogin, r.rolsuper, s.setconfig,
            exists (select from pg_auth_members m join pg_roles a on a.oid = m.roleid where m.member = r.oid and a.rolname = 'ucledger_analyst') as member_of_shared
          from pg_roles r left join pg_db_role_setting s on s.setrole = r.oid and s.setdatabase = 0 where r.rolname = ${role}`,
    );
    expect(row).toMatchObject({ rolcanlogin: false, rolsuper: false, member_of_shared: false });
    expect(row!.setconfig).toEqual(["default_transaction_read_only=on", "statement_timeout=120s", "search_path=reporting"]);
  });

  it("takes CONNECT and TEMPORARY on this database from PUBLIC and gives the role CONNECT but not TEMPORARY", async () => {
    await run(database, ["setup"]);
    const [acl] = await queryRows<{ public_privileges: string[] | null; connect: boolean; temp: boolean }>(
      database.db,
      sql`select (select array_agg(a.privilege_type::text) from pg_database d, aclexplode(d.datacl) a
                  where d.datname = current_database() and a.grantee = 0) as public_privileges,
                 has_database_privilege(${role}, current_database(), 'CONNECT') as connect,
                 has_database_privilege(${role}, current_database(), 'TEMPORARY') as temp`,
    );
    expect(acl).toEqual({ public_privileges: null, connect: true, temp: false });
  });

  it("reads every reporting view and cannot create a temporary table", async () => {
    await run(database, ["setup"]);
    await asAnalyst(
      database,
      async (query) => {
        expect(await query("select current_user as who")).toEqual([{ who: role }]);
        for (const view of EXPORT_VIEW_NAMES) await query(`select * from reporting.${view} limit 1`);
        expect(await query("select project_key from reporting.dim_project")).toEqual([{ project_key: "perdb-p" }]);
        const err = await refusal(query("create temporary table scratch (a int)"));
        expect(err).toMatchObject({ code: "42501", message: expect.stringMatching(/permission denied to create temporary tables in database/) });
        expect((await refusal(query("select * from public.files"))).message).toMatch(/permission denied for table files/);
      },
      role,
    );
  });

  it("reads a view added later: default privileges now, and the grant renewed by setup for one made otherwise", async () => {
    await run(database, ["setup"]);
    await database.db.execute(sql`create view reporting.zz_perdb_later as select project_key from public.projects`);
    try {
      await asAnalyst(database, async (query) => expect(await query("select project_key from reporting.zz_perdb_later")).toEqual([{ project_key: "perdb-p" }]), role);
      await database.db.execute(sql.raw(`revoke select on reporting.zz_perdb_later from ${role}`));
      await run(database, ["setup"]);
      await asAnalyst(database, async (query) => expect(await query("select count(*)::int as n from reporting.zz_perdb_later")).toEqual([{ n: 1 }]), role);
    } finally {
      await database.db.execute(sql`drop view reporting.zz_perdb_later`);
    }
  });

  it("lists no logins before any is made: the header alone", async () => {
    const listed = await run(database, ["list-logins"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toBe("NAME  CONNECTION LIMIT  VALID UNTIL  CAN LOG IN\n");
    expect(JSON.parse((await run(database, ["list-logins", "--json"])).stdout)).toEqual([]);
  });

  it("refuses a configured role name that is a login", async () => {
    const { out, io } = captureIo();
    const code = await runAnalystCommand({ database, serverUrl: database.url, io, analystRole: "postgres" }, ["setup"]);
    expect(code).toBe(1);
    expect(out.stderr).toMatch(/role postgres exists and can log in/);
  });
});

const serverUrl = process.env.TEST_DATABASE_URL;
if (!serverUrl) {
  process.stdout.write("\n[ucledger tests] NOT RUN: analyst logins of two ledger databases need TEST_DATABASE_URL (a PostgreSQL server)\n\n");
}

describe.skipIf(!serverUrl)("analyst logins of two ledger databases on one server (needs TEST_DATABASE_URL)", () => {
  const databases: TestDatabase[] = [];
  const roles: string[] = [];
  const logins: { name: string; url: string }[] = [];
  const clients: pg.Client[] = [];
  const service = `svc_perdb_${randomBytes(4).toString("hex")}`;

  async function connect(url: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    for (const [i, limit] of [["a", "3"], ["b", undefined]] as const) {
      const database = await createTestDatabase("postgres");
      databases.push(database);
      roles.push(await analystRoleOf(database.db));
      await registerProjects(database.db, [{ projectKey: `perdb-${i}`, name: `ledger ${i}`, isDemo: false }]);
      const name = `analyst_perdb_${i}_${randomBytes(4).toString("hex")}`;
      const created = await run(database, ["create-login", "--name", name, "--json", ...(limit ? ["--connection-limit", limit] : [])]);
      expect(created.stderr).toBe("");
      expect(created.code).toBe(0);
      logins.push({ name, url: (JSON.parse(created.stdout) as { url: string }).url });
    }
  });
  afterAll(async () => {
    for (const client of clients) await client.end().catch(() => undefined);
    for (const [i, database] of databases.entries()) {
      if (logins[i]) await run(database, ["drop-login", "--name", logins[i]!.name]).catch(() => undefined);
      await database.db.execute(sql.raw(`drop owned by ${service}`)).catch(() => undefined);
      await dropGroupRole(database, roles[i]!);
    }
    await databases[0]?.db.execute(sql.raw(`drop role if exists ${service}`)).catch(() => undefined);
    for (const database of databases) await database.close();
  });

  it("gives each database a role of its own", () => {
    expect(roles[0]).not.toBe(roles[1]);
  });

  it("lets a login read its own ledger's reporting views, read-only, as a member of that ledger's role only", async () => {
    const client = await connect(logins[0]!.url);
    const { rows } = await client.query(
      "select current_user as who, pg_has_role(current_user, $1, 'MEMBER') as own, pg_has_role(current_user, $2, 'MEMBER') as other, pg_has_role(current_user, 'ucledger_analyst', 'MEMBER') as shared",
      [roles[0], roles[1]],
    );
    expect(rows[0]).toEqual({ who: logins[0]!.name, own: true, other: false, shared: false });
    expect((await client.query("select project_key from dim_project")).rows).toEqual([{ project_key: "perdb-a" }]);
    expect((await client.query("show default_transaction_read_only")).rows[0]).toEqual({ default_transaction_read_only: "on" });
  });

  it("refuses a login the other ledger's database: permission denied for database", async () => {
    const otherDb = new URL(databases[1]!.url!).pathname.slice(1);
    const intoB = new URL(logins[0]!.url);
    intoB.pathname = `/${otherDb}`;
    const err = await refusal(connect(intoB.toString()));
    expect(err).toMatchObject({ code: "42501", message: expect.stringMatching(`permission denied for database "?${otherDb}"?`) });
    const intoA = new URL(logins[1]!.url);
    intoA.pathname = new URL(databases[0]!.url!).pathname;
    expect((await refusal(connect(intoA.toString()))).message).toMatch(/permission denied for database/);
  });

  it("refuses a temporary table even with read-only switched off", async () => {
    const client = await connect(logins[0]!.url);
    await client.query("set default_transaction_read_only = off");
    const err = await refusal(client.query("create temporary table scratch (a int)"));
    expect(err).toMatchObject({ code: "42501", message: expect.stringMatching(/permission denied to create temporary tables in database/) });
  });

  it("holds a login to its connection limit", async () => {
    const [row] = await queryRows<{ a: number; b: number }>(
      databases[0]!.db,
      sql`select (select rolconnlimit from pg_roles where rolname = ${logins[0]!.name}) as a, (select rolconnlimit from pg_roles where rolname = ${logins[1]!.name}) as b`,
    );
    expect(row).toEqual({ a: 3, b: 5 });
    // Earlier tests' connections count too: open up to three, then one more is refused.
    const [sessions] = await queryRows<{ n: number }>(databases[0]!.db, sql`select count(*)::int as n from pg_stat_activity where usename = ${logins[0]!.name}`);
    expect(sessions!.n).toBeLessThanOrEqual(3);
    for (let i = sessions!.n; i < 3; i++) await connect(logins[0]!.url);
    expect((await refusal(connect(logins[0]!.url))).message).toMatch(/too many connections for role/);
  });

  it("lists each database's logins with their limits, and only its own", async () => {
    const a = await run(databases[0]!, ["list-logins"]);
    expect(a.code).toBe(0);
    expect(a.stdout.split("\n")[0]).toMatch(/^NAME\s+CONNECTION LIMIT\s+VALID UNTIL\s+CAN LOG IN$/);
    expect(a.stdout).toMatch(new RegExp(`^${logins[0]!.name}\\s+3\\s+always\\s+yes$`, "m"));
    expect(a.stdout).not.toContain(logins[1]!.name);
    const b = JSON.parse((await run(databases[1]!, ["list-logins", "--json"])).stdout) as unknown;
    expect(b).toEqual([{ name: logins[1]!.name, connectionLimit: 5, validUntil: null, canLogin: true }]);
  });

  it("keeps the service role of `ucledger db grant-service` able to connect", async () => {
    await databases[0]!.db.execute(sql.raw(`create role ${service} login password 'svc-perdb-pw'`));
    await grantService(databases[0]!.db, service);
    const url = new URL(databases[0]!.url!);
    url.username = service;
    url.password = "svc-perdb-pw";
    const client = await connect(url.toString());
    expect((await client.query("select count(*)::int as n from public.projects")).rows[0]).toEqual({ n: 1 });
  });

  it("refuses a bad --connection-limit before touching the server", async () => {
    const result = await run(databases[0]!, ["create-login", "--name", "analyst_perdb_never", "--connection-limit", "lots"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--connection-limit must be a whole number/);
    const zero = await run(databases[0]!, ["create-login", "--name", "analyst_perdb_never", "--connection-limit", "0"]);
    expect(zero.code).toBe(1);
    expect(zero.stderr).toMatch(/--connection-limit: a whole number from 1 to 1000/);
  });
});
