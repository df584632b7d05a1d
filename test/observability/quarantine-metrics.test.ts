import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import { apiHarness, uuidOf } from "../api/helpers.ts";
import { insertQuarantine } from "../api/quarantine-rows.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

/** The quarantine gauge is read from file_quarantine at scrape time, like the sync gauges. */
describe.each(backends)("quarantined records in /metrics on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("counts records per project and disposition, zero for a project with none, fresh at each scrape", async () => {
    await registerProjects(database.db, [{ projectKey: "qm-empty", name: "empty", isDemo: false }]);
    await insertQuarantine(database.db, [
      { projectKey: "qm-p", raw: '{"a":"\\u0000"}', fileUuid: uuidOf(1, 61), disposition: "stored_escaped", lastSeenAt: "2026-03-01T00:00:00Z" },
      { projectKey: "qm-p", raw: '{"b":1}', lastSeenAt: "2026-03-01T00:00:00Z" },
      { projectKey: "qm-p", raw: '{"c":1}', lastSeenAt: "2026-03-02T00:00:00Z" },
    ]);
    const api = await apiHarness(database, { metrics: createMetrics(database.db) });
    const scrape = async () => {
      const res = await api.call("/metrics", { role: null });
      expect(res.status).toBe(200);
      return res.text();
    };
    const gauge = (text: string, project: string, disposition: string) =>
      text.match(new RegExp(`^ucledger_sync_quarantined_records\\{project="${project}",disposition="${disposition}"\\} (\\d+)$`, "m"))?.[1];

    const first = await scrape();
    expect(first).toContain("# TYPE ucledger_sync_quarantined_records gauge");
    expect(gauge(first, "qm-p", "set_aside")).toBe("2");
    expect(gauge(first, "qm-p", "stored_escaped")).toBe("1");
    expect(gauge(first, "qm-empty", "set_aside")).toBe("0");
    expect(gauge(first, "qm-empty", "stored_escaped")).toBe("0");
    // Two label values per project: nothing per file or per reason.
    expect(first.match(/^ucledger_sync_quarantined_records\{/gm)).toHaveLength(4);

    await insertQuarantine(database.db, [{ projectKey: "qm-p", raw: '{"d":1}', lastSeenAt: "2026-03-03T00:00:00Z" }]);
    expect(gauge(await scrape(), "qm-p", "set_aside")).toBe("3");
  });
});
