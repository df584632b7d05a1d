import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDbCommand } from "../../src/cli/db-roles.ts";
import { migrateDatabase, openDatabase, type Database } from "../../src/db/client.ts";
import { readRolePrivileges, warnIfOverPrivileged } from "../../src/db/privileges.ts";
import { claimRun, finishClaim } from "../../src/db/queries/job-claims.ts";
import { refreshDailyRollup } from "../../src/db/queries/rollup.ts";
import { queryRows } from "../../src/db/query.ts";
import { grantService, servicePrivilegesOn } from "../../src/db/service-grants.ts";
import { silentLogger, type Logger } from "../../src/logger.ts";
import { buildWeeklyReport } from "../../src/reports/weekly/build.ts";
import { replaceReferences } from "../../src/sync/references/replace.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { sandboxApi } from "../support/uploadcare.ts";
import { applyPlan, approvedPlan, scene, uploadOld, type Scene } from "../decisions/helpers.ts";

const serverUrl = process.env.TEST_DATABASE_URL;
if (!serverUrl) console.warn("TEST_DATABASE_URL is not set: the least-privilege tests ran on PGlite only; the service role's own login (a second pool) was NOT covered");

/** What the service role must never be able to do to the audit trail, whatever it is asked. */
const REFUSED: [string, RegExp][] = [
  ["alter table file_events disable trigger all", /must be owner of table file_events/],
  ["alter table file_events disable trigger user", /must be owner of table file_events/],
  ["delete from file_events", /permission denied for table file_events/],
  ["update file_events set kind = kind", /permission denied for table file_events/],
  ["truncate file_events", /permission denied for table file_events/],
  ["delete from audit_chain_heads", /permission denied for table audit_chain_heads/],
  ["truncate audit_chain_heads", /permission denied for table audit_chain_heads/],
  ["drop table file_events", /must be owner of table file_events/],
  ["create table public.scratch (a int)", /permission denied for schema public/],
  ["create trigger t before insert on files for each row execute function now()", /permission denied for table files|must be owner/],
  ["delete from files", /permission denied for table files/],
];

function dbError(err: unknown): { code: string | undefined; message: string } {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  return { code: e.cause?.code ?? e.code, message: e.cause?.message ?? e.message ?? String(err) };
}

function capturingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = { ...silentLogger, warn: (_obj: unknown, msg?: string) => void warnings.push(String(msg)) } as unknown as Logger;
  return { logger, warnings };
}

describe.each(backends)("the service as a least-privilege role on %s", (kind) => {
  const role = `svc_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(18).toString("base64url");
  let owner: TestDatabase;
  /** The service's own connection: SET ROLE on PGlite's one connection, a pool logged in as the role on a server. */
  let service: TestDatabase;
  let servicePool: Database | undefined;
  let granted: string[];

  beforeAll(async () => {
    owner = await createTestDatabase(kind);
    await owner.db.execute(sql.raw(kind === "postgres" ? `create role ${role} login password '${password}'` : `create role ${role} nologin`));
    granted = await grantService(owner.db, role);
    if (kind === "pglite") {
      await owner.db.execute(sql.raw(`set role ${role}`));
      service = owner;
    } else {
      const url = new URL(owner.url!);
      url.username = role;
      url.password = password;
      // Migrations are all applied: opening with migrate on must run no DDL as the service.
      servicePool = await openDatabase({ url: url.toString(), maxConnections: 3 });
      service = { ...servicePool, url: url.toString() };
    }
  }, 60_000);

  afterAll(async () => {
    if (kind === "pglite") await owner?.db.execute(sql`reset role`).catch(() => undefined);
    await servicePool?.close();
    await owner?.close();
    if (kind === "postgres") {
      // Roles belong to the server: never leave one behind (its database is gone, so nothing holds it).
      const admin = new pg.Client({ connectionString: serverUrl });
      await admin.connect();
      await admin.query(`drop role if exists ${role}`);
      await admin.end();
    }
  });

  it("grant-service grants read and insert everywhere, UPDATE and DELETE only where the service needs them", () => {
    expect(granted).toContain("file_events: SELECT, INSERT");
    expect(granted).toContain("audit_chain_heads: SELECT, INSERT, UPDATE");
    expect(granted).toContain("reconcile_seen: SELECT, INSERT, DELETE");
    expect(granted).toContain("files: SELECT, INSERT, UPDATE");
    expect(servicePrivilegesOn("audit_anchors")).toEqual(["SELECT", "INSERT"]);
    expect(granted.join("\n")).not.toMatch(/TRUNCATE|TRIGGER|REFERENCES|ALTER/);
  });

  it("holds no TRUNCATE, TRIGGER or REFERENCES anywhere, and neither UPDATE nor DELETE on the audit trail", async () => {
    const rows = await queryRows<{ name: string; privilege: string }>(
      owner.db,
      sql`select c.relname as name, p.privilege from pg_class c join pg_namespace n on n.oid = c.relnamespace,
            unnest(array['TRUNCATE', 'TRIGGER', 'REFERENCES', 'UPDATE', 'DELETE']) p(privilege)
          where n.nspname = 'public' and c.relkind in ('r', 'p') and has_table_privilege(${role}, c.oid, p.privilege)
            and (p.privilege in ('TRUNCATE', 'TRIGGER', 'REFERENCES') or c.relname in ('file_events', 'audit_anchors'))`,
    );
    expect(rows).toEqual([]);
  });

  it.each(REFUSED)("refuses the service: %s", async (statement, message) => {
    const err = await service.db.execute(sql.raw(statement)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, statement).not.toBeNull();
    expect(dbError(err)).toMatchObject({ code: "42501", message: expect.stringMatching(message) });
  });

  it("refuses the service any change to an audit anchor", async () => {
    const [present] = await queryRows<{ yes: boolean }>(service.db, sql`select to_regclass('public.audit_anchors') is not null as yes`);
    if (!present?.yes) throw new Error("audit_anchors is missing: the migration that creates it did not run");
    for (const statement of ["delete from audit_anchors", "update audit_anchors set hash = hash", "truncate audit_anchors"]) {
      const err = await service.db.execute(sql.raw(statement)).then(() => null, (e: unknown) => e);
      expect(dbError(err), statement).toMatchObject({ code: "42501", message: expect.stringMatching(/permission denied for table audit_anchors/) });
    }
  });

  describe("does its normal work", () => {
    let s: Scene;
    beforeAll(async () => {
      s = await scene(service, { files: 120, seed: 7 });
    });
    afterAll(async () => {
      await s?.close();
    });

    it("syncs (all lanes, twice), applies a reviewed plan, refreshes the rollup, replaces references, claims a job and builds a report", async () => {
      const db = service.db;
      const projectKey = s.sandbox.publicKey;
      const old = uploadOld(s.sandbox, 30, { stored: false, ageHours: 3 });
      await s.sync();
      // A delete behind the ledger's back: the next reconciliation updates the file and appends an event.
      const gone = old[0]!;
      expect((await sandboxApi(s.sandbox, "DELETE", `/files/${gone}/storage/`)).status).toBeLessThan(300);
      await s.sync();
      const [removed] = await queryRows<{ removed: boolean }>(db, sql`select datetime_removed is not null as removed from files where project_key = ${projectKey} and uuid = ${gone}::uuid`);
      expect(removed).toEqual({ removed: true });

      const plan = await approvedPlan(s, { name: "drop old temps", template: "delete-unstored-older-than", params: { hours: 2 } });
      const applied = await applyPlan(s, plan.id);
      expect(applied.done).toBeGreaterThan(0);

      await refreshDailyRollup(db, projectKey, { full: true });
      await refreshDailyRollup(db, projectKey);
      await replaceReferences(
        { db, now: () => new Date(), settings: { maxDropShare: 1, cdnDomains: [], sources: [] } },
        {
          projectKey,
          source: "app-db",
          kind: "push",
          references: (async function* () {
            for (const uuid of old.slice(5, 10)) yield { ref: `posts/${uuid.slice(0, 4)}`, value: `https://ucarecdn.com/${uuid}/` };
          })(),
          force: false,
          actor: "test",
        },
      );
      const claimed = await claimRun(db, { projectKey, job: "least-privilege.test", slot: null }, "test", 60_000);
      expect(claimed.kind).toBe("claimed");
      if (claimed.kind === "claimed") expect(await finishClaim(db, claimed.claim, "done", null)).toBe(true);
      const report = await buildWeeklyReport({ db, now: () => new Date() }, { projectKey, week: isoWeekBefore(new Date()), timezone: "UTC", publicUrl: "http://x" });
      expect(report.id).toBeTruthy();

      const [chain] = await queryRows<{ events: number; head: number }>(
        db,
        sql`select (select count(*)::int from file_events where project_key = ${projectKey}) as events,
                   (select last_seq::int from audit_chain_heads where project_key = ${projectKey}) as head`,
      );
      expect(chain!.events).toBeGreaterThan(150);
      expect(chain!.head).toBe(chain!.events);
    }, 120_000);
  });

  it("is not told it owns the audit trail, while the owner is", async () => {
    expect(await readRolePrivileges(service.db)).toMatchObject({ role, superuser: false, ownsAuditTrail: false, ownsApiRequests: false });
    const { logger, warnings } = capturingLogger();
    expect(await warnIfOverPrivileged(service, logger)).toBe(false);
    expect(warnings).toEqual([]);
    if (kind === "postgres") {
      const asOwner = capturingLogger();
      expect(await warnIfOverPrivileged(owner, asOwner.logger)).toBe(true);
      expect(asOwner.warnings).toHaveLength(1);
      expect(asOwner.warnings[0]).toMatch(/superuser.*docs\/security\.md, section Roles and least privilege/);
    }
  });

  if (kind === "pglite") {
    it("says grant-service is for a PostgreSQL server", async () => {
      const out = { stdout: "", stderr: "" };
      const io = { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) };
      expect(await runDbCommand({ database: owner, retentionDays: 400, io }, ["grant-service", role])).toBe(1);
      expect(out.stderr).toMatch(/PostgreSQL server/);
    });
  }

  if (kind === "postgres") {
    it("grant-service refuses a superuser and the owner itself, and prints what it granted", async () => {
      const out = { stdout: "", stderr: "" };
      const io = { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t) };
      expect(await runDbCommand({ database: owner, retentionDays: 400, io }, ["grant-service", "postgres"])).toBe(1);
      expect(out.stderr).toMatch(/role running this command|superuser/);
      expect(await runDbCommand({ database: owner, retentionDays: 400, io }, ["grant-service", role])).toBe(0);
      expect(out.stdout).toMatch(/file_events: SELECT, INSERT\n/);
    });

    it("never migrates as the service: a pending migration is refused with the remedy, and the owner's URL applies it", async () => {
      const last = sql`(select max(created_at) from drizzle.__drizzle_migrations)`;
      await owner.db.execute(sql`update drizzle.__drizzle_migrations set created_at = created_at - 1 where created_at = ${last}`);
      try {
        await expect(openDatabase({ url: service.url!, maxConnections: 1 })).rejects.toThrow(/UCLEDGER_MIGRATE_DATABASE_URL/);
      } finally {
        await owner.db.execute(sql`update drizzle.__drizzle_migrations set created_at = created_at + 1 where created_at = ${last}`);
      }
      // Nothing pending: the owner's migration is a no-op, and the service opens.
      await migrateDatabase(owner.url!);
      const again = await openDatabase({ url: service.url!, maxConnections: 1 });
      await again.close();
    });
  }
});

/** An ISO week that has ended: last week's. */
function isoWeekBefore(now: Date): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 7));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  const week = Math.ceil(((d.getTime() - yearStart.getTime()) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}
