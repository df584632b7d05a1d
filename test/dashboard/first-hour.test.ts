import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { analyzed, countHonestly } from "../../src/db/queries/honest-count.ts";
import { projectRollup, rollupTotals, type RollupRow } from "../../src/db/queries/project-rollup.ts";
import { queryRows } from "../../src/db/query.ts";
import { refreshStatistics } from "../../src/db/statistics.ts";
import { compileConditions } from "../../src/decisions/conditions.ts";
import { weekPeriod } from "../../src/reports/weekly/period.ts";
import { apiHarness, insertFiles, uuidOf, type ApiHarness, type FileSeed } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { dashboardSession, type DashboardSession } from "./session-helpers.ts";

/**
 * Issue 18's first hour, in-process on both backends: honest totals, the
 * overview on the last complete week, every project at a glance, a policy
 * from the dashboard's template form, and the infected filter.
 */

/** A Thursday in 2026-W48: the last complete week is 2026-W47 (Mon 16 – Sun 22 November). */
const NOW = new Date("2026-11-26T12:00:00Z");
const DAY = 86_400_000;
const at = (daysAgo: number) => new Date(NOW.getTime() - daysAgo * DAY).toISOString();

const MAIN = "first-hour";
const ROLL = ["roll-a", "roll-b", "roll-c"];
const INFECTED = { uc_clamav_virus_scan: { data: { infected: true, infected_with: "Win.Test.EICAR_HDB-1" }, version: "0.104.2" } };
const CLEAN = { uc_clamav_virus_scan: { data: { infected: false }, version: "0.104.2" } };

/** 2,000 files like the demo's: mixed types, some stored, some removed, a few infected, a few scanned clean. */
function demoLike(): FileSeed[] {
  return Array.from({ length: 2000 }, (_, i) => ({
    projectKey: MAIN,
    uuid: uuidOf(i + 1, 18),
    uploaded: at(1 + (i % 60)),
    size: 1000 + i,
    mimeType: ["image/png", "image/jpeg", "application/pdf", "video/mp4"][i % 4]!,
    stored: i % 3 === 0 ? at(i % 60) : null,
    removed: i % 17 === 0 ? at(0.5) : null,
    appdata: i % 97 === 0 ? INFECTED : i % 89 === 0 ? CLEAN : null,
  }));
}

describe.each(backends)("the first hour on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  let admin: DashboardSession;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    api = await apiHarness(database, { now: () => NOW });
    await registerProjects(database.db, [{ projectKey: MAIN, name: "Shop uploads", isDemo: false }]);
    await insertFiles(database.db, demoLike());
    admin = await dashboardSession(api, "admin");
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });

  it("says 2,000 on the files page of 2,000 files, never 'about', and the API's total is exact", async () => {
    const res = await admin.get(`/dashboard/files?project=${MAIN}`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/50 shown of 2,000</);
    expect(html).not.toContain("about");
    const page = await api.json<{ total: number; totalExact: boolean }>(`/v1/files?project=${MAIN}&limit=1`);
    expect(page.body).toMatchObject({ total: 2000, totalExact: true });
  });

  it("beyond the exact bound, estimates only from real statistics and never shows a default", async () => {
    const query = { from: sql`files`, where: [sql`project_key = ${MAIN}`], mode: "auto" as const, bound: 100 };
    const before = await countHonestly(database.db, query);
    if (await analyzed(database.db, ["files"])) {
      // The server's autovacuum may have analyzed the table already: then the estimate is real.
      expect(before.total).toBeGreaterThan(100);
    } else {
      expect(before).toEqual({ total: null, exact: false, atLeast: 100 });
    }
    await refreshStatistics(database.db, ["files"]);
    expect(await analyzed(database.db, ["files"])).toBe(true);
    const after = await countHonestly(database.db, query);
    expect(after.exact).toBe(false);
    expect(after.total).toBeGreaterThan(1500);
    expect(after.total).toBeLessThan(2500);
  });

  it("opens the overview on the last complete week, with the week picker visible for one project", async () => {
    const html = await (await admin.get("/dashboard")).text();
    expect(html).toContain('data-week="2026-W47"');
    expect(html).toContain("2026-11-16 – 2026-11-22");
    expect(html).toMatch(/<form class="filters" method="get" action="\/dashboard" aria-label="Project and week">/);
    expect(html).toMatch(/<input name="week" value="2026-W47"/);
    expect(html).not.toContain("This week is still running");
    expect(html).toContain("Shop uploads");
    expect(html).toContain("Sync health");

    const running = await (await admin.get("/dashboard?week=2026-W48")).text();
    expect(running).toContain('data-week="2026-W48"');
    expect(running).toContain("This week is still running");
    // A week that has not begun, or does not exist, falls back to the last complete one.
    expect(await (await admin.get("/dashboard?week=2027-W10")).text()).toContain('data-week="2026-W47"');
    expect(await (await admin.get("/dashboard?week=2026-W99")).text()).toContain('data-week="2026-W47"');
  });

  it("rolls three projects up, one row each, with totals that are the sum of the rows", async () => {
    const w47 = weekPeriod("2026-W47", "UTC");
    await registerProjects(
      database.db,
      ROLL.map((projectKey, i) => ({ projectKey, name: `Roll ${"ABC"[i]}`, isDemo: false })),
    );
    const seeds: FileSeed[] = [];
    ROLL.forEach((projectKey, p) => {
      for (let i = 0; i < 5 + p * 3; i++) {
        seeds.push({ projectKey, uuid: uuidOf(i + 1, 40 + p), uploaded: i % 2 ? "2026-11-18T10:00:00Z" : "2026-10-01T10:00:00Z", size: 1000 * (p + 1), stored: "2026-11-18T10:00:00Z" });
      }
      seeds.push({ projectKey, uuid: uuidOf(99, 40 + p), uploaded: "2026-10-01T10:00:00Z", size: 500, removed: "2026-11-19T00:00:00Z" });
    });
    await insertFiles(database.db, seeds);
    for (const [p, projectKey] of ROLL.entries()) {
      for (const date of ["2026-11-16", "2026-11-22", "2026-11-23"]) {
        await database.db.execute(sql`insert into usage_daily (project_key, date, metric, value, unit, fetched_at) values
          (${projectKey}, ${date}, 'traffic', ${(p + 1) * 1_000_000}, 'bytes', now()), (${projectKey}, ${date}, 'operations', ${(p + 1) * 10}, 'operations', now())`);
      }
      for (let r = 0; r < p; r++) {
        await database.db.execute(sql`insert into sync_runs (project_key, id, stream, lane, started_at, finished_at, status, error)
          values (${projectKey}, gen_random_uuid(), 'files', 'new', '2026-11-20T10:00:00Z', '2026-11-20T10:01:00Z', 'failed', 'upstream 503')`);
      }
    }
    const rows = (await projectRollup(database.db, { week: { start: w47.start, end: w47.end, firstDate: "2026-11-16", lastDate: "2026-11-22" }, now: NOW })).filter((r) =>
      ROLL.includes(r.projectKey),
    );
    expect(rows.map((r) => r.name)).toEqual(["Roll A", "Roll B", "Roll C"]);
    const b = rows[1]!;
    // Roll B: 8 files + 1 removed; 4 uploaded in W47 at 2,000 bytes, 500 bytes removed in it.
    expect(b).toMatchObject({ files: 9, storedFiles: 8, bytesStored: 16_000, uploadsThisWeek: 4, growthBytes: 8_000 - 500, trafficBytes: 4_000_000, operations: 40, failedSyncs: 1, orphans: null });
    const totals = rollupTotals(rows);
    for (const key of ["files", "storedFiles", "bytesStored", "growthBytes", "uploadsThisWeek", "trafficBytes", "operations", "failedSyncs"] as const) {
      expect(totals[key], key).toBe(rows.reduce((sum, r: RollupRow) => sum + (r[key] ?? 0), 0));
    }
    expect(totals.orphans).toBeNull();

    const html = await (await admin.get("/dashboard/projects?week=2026-W47")).text();
    for (const r of rows) expect(html).toContain(`<a href="/dashboard?project=${r.projectKey}&amp;week=2026-W47">${r.name}</a>`);
    // The total row adds up every project's row, the main project included.
    const all = rollupTotals(await projectRollup(database.db, { week: { start: w47.start, end: w47.end, firstDate: "2026-11-16", lastDate: "2026-11-22" }, now: NOW }));
    const totalRow = /<tr class="total"[\s\S]*?<\/tr>/.exec(html)![0];
    expect(totalRow).toContain("All 4 projects");
    expect(totalRow).toContain(`data-figure="files">${all.files.toLocaleString("en-US")}<`);
    expect(totalRow).toContain(`data-figure="failedSyncs">${all.failedSyncs}<`);
    expect(totalRow).toContain(`data-figure="operations">${(all.operations ?? 0).toLocaleString("en-US")}<`);
  });

  it("creates a policy from the dashboard's template form that proposes the same plan as the same template through the API", async () => {
    const operator = await dashboardSession(api, "operator");
    const form = { template: "delete-unstored-older-than", project: MAIN, name: "from the form", "param.hours": "48" };
    const preview = await operator.post("/dashboard/policies/new", { ...form, intent: "preview" });
    expect(preview.status).toBe(200);
    const previewHtml = await preview.text();
    const previewCount = Number(/data-preview-files="(\d+)"/.exec(previewHtml)?.[1]);
    expect(previewHtml).toContain("uploaded at least 48 h ago");
    // The preview saved nothing.
    expect((await api.json<{ data: unknown[] }>(`/v1/policies?project=${MAIN}`)).body.data).toHaveLength(0);

    const created = await operator.post("/dashboard/policies/new", { ...form, intent: "create" });
    expect(created.status).toBe(303);
    expect(created.headers.get("location")).toContain("/dashboard/plans?created=");
    const viaApi = await api.json<{ id: string }>("/v1/policies", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ project: MAIN, name: "from the API", template: "delete-unstored-older-than", params: { hours: 48 } }),
    });
    expect(viaApi.status).toBe(201);
    const dryRun = async (policy: string) =>
      (
        await api.json<{ files: number; bytes: number; excludedCount: number; sample: { fileUuid: string }[]; conditions: string[]; policy: unknown }>("/v1/plans", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ project: MAIN, policy, dryRun: true }),
        })
      ).body;
    const fromForm = await dryRun("from the form");
    const fromApi = await dryRun(viaApi.body.id);
    expect(fromForm.files).toBeGreaterThan(0);
    const plan = ({ policy, ...rest }: Record<string, unknown>) => ({ ...rest, conditions: (policy as { conditions: unknown }).conditions });
    expect(plan(fromForm)).toEqual(plan(fromApi));
    expect(previewCount).toBe(fromForm.files);

    // A bad parameter is named in users' words, and nothing is created.
    const bad = await operator.post("/dashboard/policies/new", { ...form, name: "bad", "param.hours": "-3", intent: "create" });
    expect(bad.status).toBe(200);
    expect(await bad.text()).toContain("params.hours: must be more than 0 hours");
    // A viewer gets no form and previews nothing.
    const viewer = await dashboardSession(api, "viewer");
    expect(await (await viewer.post("/dashboard/policies/new", { ...form, intent: "preview" })).text()).toContain("needs an operator or admin token");
  });

  it("filters infected files exactly as the appdata condition of policies does, and badges them", async () => {
    const listed = async (query: string) => {
      const page = await api.json<{ data: { uuid: string }[]; total: number }>(`/v1/files?project=${MAIN}&limit=1000&${query}`);
      return page.body.data.map((f) => f.uuid).sort();
    };
    const condition = compileConditions([{ kind: "appdata", path: "uc_clamav_virus_scan.data.infected", op: "equals", value: true }], { now: NOW });
    const matched = (await queryRows<{ uuid: string }>(database.db, sql`select f.uuid::text as uuid from files f where f.project_key = ${MAIN} and ${condition.where}`))
      .map((r) => r.uuid)
      .sort();
    expect(matched.length).toBe(21);
    expect(await listed("infected=true")).toEqual(matched);
    const notInfected = await api.json<{ total: number }>(`/v1/files?project=${MAIN}&limit=1&infected=false`);
    expect(notInfected.body.total).toBe(2000 - matched.length);

    const html = await (await admin.get(`/dashboard/files?project=${MAIN}&infected=true`)).text();
    expect(html).toMatch(/50 shown|21 shown/);
    expect(html.match(/>\s*infected\s*</g)?.length).toBe(21);
    const file = await (await admin.get(`/dashboard/files/${MAIN}/${matched[0]}`)).text();
    expect(file).toContain("ClamAV found Win.Test.EICAR_HDB-1");
  });

  it("answers filter mistakes in users' words, takes plain dates and MIME families", async () => {
    const error = async (query: string) => (await api.json<{ error: { message: string } }>(`/v1/files?project=${MAIN}&${query}`)).body.error?.message;
    expect(await error("sizeMin=-5")).toBe("sizeMin: must not be negative");
    expect(await error("sizeMin=lots")).toBe("sizeMin: must be a whole number, such as 1024");
    expect(await error("mime=pictures")).toMatch(/^mime: "pictures" is not a MIME type; give one such as image\/png, or a family such as image\/\*/);
    expect(await error("uploadedFrom=2026-02-30")).toMatch(/^uploadedFrom: must be a date/);
    const events = await api.json<{ error: { message: string } }>(`/v1/events?project=${MAIN}&kind=stored,bogus`);
    expect(events.body.error.message).toMatch(/^kind \(value 2\): must be one of /);

    const family = await api.json<{ total: number }>(`/v1/files?project=${MAIN}&limit=1&mime=image`);
    const star = await api.json<{ total: number }>(`/v1/files?project=${MAIN}&limit=1&mime=image/*`);
    expect(family.body.total).toBe(1000);
    expect(star.body.total).toBe(1000);
    const plain = await api.json<{ total: number }>(`/v1/files?project=${MAIN}&limit=1&uploadedFrom=2026-11-20`);
    const iso = await api.json<{ total: number }>(`/v1/files?project=${MAIN}&limit=1&uploadedFrom=2026-11-20T00:00:00Z`);
    expect(plain.status).toBe(200);
    expect(plain.body.total).toBe(iso.body.total);
    expect(plain.body.total).toBeGreaterThan(0);
  });
});
