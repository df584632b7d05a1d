import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listFileVersions } from "../../src/db/queries/file-versions.ts";
import { planSavings } from "../../src/db/queries/plans.ts";
import { queryRows } from "../../src/db/query.ts";
import { computeWeeklyReport } from "../../src/reports/weekly/compute.ts";
import { isoWeekOf, shiftWeek, weekPeriod } from "../../src/reports/weekly/period.ts";
import { readWeeklyRows } from "../../src/reports/weekly/query.ts";
import { plansTable } from "../../src/reports/weekly/report-tables.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles } from "../support/uploadcare.ts";
import { applyPlan, approvedPlan, itemStatuses, planEvents, scene, type Scene } from "./helpers.ts";
import { uploadPngs, versionPolicy, WEBP } from "./version-helpers.ts";

describe.each(backends)("a version plan on %s", (kind) => {
  let database: TestDatabase;
  let s: Scene;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    s = await scene(database, { files: 20 });
  });
  afterAll(async () => {
    await s?.close();
    await database?.close();
  });

  it("makes one stored WebP copy of each PNG, linked to it, deletes each original only after its copy, and reports the bytes saved", async () => {
    const pngs = uploadPngs(s.sandbox, 300, "v1");
    const [huge] = uploadPngs(s.sandbox, 1, "v1", 150 * 1024 ** 2);
    await s.sync();
    const plan = await approvedPlan(s, versionPolicy("webp v1", "v1"));
    expect(plan.fileCount).toBe(300);
    expect(plan.excludedCount).toBe(1);
    expect((await itemStatuses(database.db, plan.id)).get(huge!)).toEqual({
      status: "excluded",
      reason: "too large: Uploadcare copies sources of at most 100 MB with CDN operations (this one is 150.0 MB)",
    });

    const since = s.sandbox.requests().at(-1)?.seq ?? 0;
    const summary = await applyPlan(s, plan.id);
    expect(summary).toMatchObject({ status: "applied", done: 300, failed: 0, skipped: 0 });

    const log = s.sandbox.requests(since);
    const copies = log.filter((r) => r.method === "POST" && r.path === "/files/local_copy/");
    expect(copies).toHaveLength(300);
    expect(copies.map((r) => (r.body as { source: string }).source).sort()).toEqual(pngs.map((u) => `${u}/${WEBP}`).sort());
    const deletes = log.filter((r) => r.method === "DELETE" && r.path === "/files/storage/");
    expect(deletes.flatMap((r) => r.body as string[]).sort()).toEqual([...pngs].sort());
    for (const del of deletes) {
      for (const uuid of del.body as string[]) {
        const copy = copies.find((r) => (r.body as { source: string }).source.startsWith(uuid))!;
        expect(copy.status).toBe(201);
        expect(copy.seq).toBeLessThan(del.seq);
      }
    }

    const upstream = await allSandboxFiles(s.sandbox);
    const made = [...upstream.values()].filter((f) => f.metadata?.["ucledger_plan"] === plan.id);
    expect(made).toHaveLength(300);
    expect(new Set(made.map((f) => f.metadata?.["ucledger_version_of"])).size).toBe(300);
    for (const copy of made) {
      expect(copy.datetime_stored).not.toBeNull();
      expect(copy.mime_type).toBe("image/webp");
      expect(copy.original_filename).toBe("photo.webp");
      const original = upstream.get(copy.metadata!["ucledger_version_of"]!)!;
      expect(original.datetime_removed).not.toBeNull();
      expect(copy.size).toBeLessThan(original.size);
      expect(copy.size).toBeGreaterThan(original.size * 0.15);
    }
    expect(upstream.get(huge!)?.datetime_removed).toBeNull();

    // Linked both ways, with the plan, in the ledger and the audit trail.
    const links = await listFileVersions(database.db, s.sandbox.publicKey, pngs[0]!);
    expect(links.copies).toHaveLength(1);
    expect(links.copies[0]).toMatchObject({ originalUuid: pngs[0], planId: plan.id, operations: WEBP });
    expect((await listFileVersions(database.db, s.sandbox.publicKey, links.copies[0]!.copyUuid)).copyOf?.originalUuid).toBe(pngs[0]);
    const events = await planEvents(database.db, plan.id);
    expect(events.filter((e) => e.after?.["event"] === "version_created")).toHaveLength(300);
    expect(events.filter((e) => e.after?.["event"] === "version_of")).toHaveLength(300);
    expect(events.filter((e) => e.kind === "removed")).toHaveLength(300);
    const [ledger] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from files f join file_versions v on v.project_key = f.project_key and v.copy_uuid = f.uuid where v.plan_id = ${plan.id}::uuid`,
    );
    expect(ledger?.n).toBe(300);

    // Bytes saved: per file and in total, the same in the plan's results and the reporting view.
    const savings = await planSavings(database.db, plan);
    const before = pngs.reduce((sum, u) => sum + upstream.get(u)!.size, 0);
    const after = made.reduce((sum, f) => sum + f.size, 0);
    expect(savings).toEqual({ files: 300, bytesBefore: before, bytesAfter: after, bytesSaved: before - after });
    expect(savings!.bytesSaved).toBeGreaterThan(0);
    const [view] = await queryRows<{ saved: number | string; n: number }>(
      database.db,
      sql`select sum(bytes_saved)::bigint as saved, count(bytes_saved)::int as n from reporting.fct_plan_item_v2 where plan_id = ${plan.id}::uuid`,
    );
    expect({ saved: Number(view?.saved), n: view?.n }).toEqual({ saved: before - after, n: 300 });

    // …and in the weekly report's plans section, this week.
    const week = isoWeekOf(new Date().toISOString().slice(0, 10));
    const current = weekPeriod(week, "UTC");
    const previous = weekPeriod(shiftWeek(week, -1), "UTC");
    const rows = await readWeeklyRows(database.db, { projectKey: s.sandbox.publicKey, current, previous });
    const report = computeWeeklyReport({ rows, current, previous, generatedAt: new Date().toISOString() });
    expect(report.plans.bytesSaved).toEqual({ current: before - after, previous: 0 });
    expect(report.plans.savings).toEqual([{ planId: plan.id, bytesSaved: { current: before - after, previous: 0 } }]);
    expect(plansTable(report).rows.some((r) => r[0] === plan.id && r[1] === "bytes saved")).toBe(true);
  }, 180_000);

  it("keeps the originals when the plan says so: its items are done once their copies are confirmed", async () => {
    const pngs = uploadPngs(s.sandbox, 20, "v2");
    await s.sync();
    const plan = await approvedPlan(s, versionPolicy("webp v2", "v2", false));
    const summary = await applyPlan(s, plan.id);
    expect(summary).toMatchObject({ status: "applied", done: 20, failed: 0 });
    const upstream = await allSandboxFiles(s.sandbox);
    expect(pngs.every((u) => upstream.get(u)?.datetime_removed === null)).toBe(true);
    expect(await planSavings(database.db, plan)).toBeNull();
  }, 120_000);
});
