// First: the API modules extend zod with OpenAPI metadata before the decisions' schemas load.
import { insertFiles, uuidOf } from "../api/helpers.ts";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/query.ts";
import { createPolicy } from "../../src/decisions/manage-policies.ts";
import { proposePlan } from "../../src/decisions/propose.ts";
import { fileReferenceStatus } from "../../src/db/queries/reference-status.ts";
import { replaceReferences } from "../../src/sync/references/replace.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { deps, stream } from "./helpers.ts";

/**
 * The orphan policy (template delete-orphans: unreferenced for 30 days, 7 days
 * of grace for new uploads) never proposes deleting a file that a source
 * references, one uploaded within the grace period, or one that only a stale
 * source's silence could have left unreferenced.
 */

const NOW = new Date("2026-05-01T00:00:00Z");
const days = (n: number) => new Date(NOW.getTime() - n * 86_400_000);

async function push(database: TestDatabase, projectKey: string, source: string, at: Date, uuids: string[], staleAfterHours = 48) {
  const settings = { sources: [{ name: source, projectKey, staleAfterHours, pull: undefined }] };
  await replaceReferences(deps(database.db, () => at, settings), {
    projectKey,
    source,
    kind: "push",
    references: stream(uuids.map((uuid, i) => ({ ref: `r/${i}`, value: `https://ucarecdn.com/${uuid}/-/resize/200x/` }))),
    force: true,
    actor: "test",
  });
}

async function plannedFiles(database: TestDatabase, projectKey: string): Promise<{ pending: string[]; excluded: string[] }> {
  const d = { db: database.db, now: () => NOW };
  const policy = await createPolicy(d, { projectKey, body: { name: `orphans-${projectKey}`, template: "delete-orphans", params: { days: 30, graceDays: 7 } }, actor: "test" });
  const plan = await proposePlan(d, { projectKeys: [projectKey], policy: policy.id, actor: "test" });
  const items = await queryRows<{ file_uuid: string; status: string }>(
    database.db,
    sql`select file_uuid::text as file_uuid, status from plan_items where project_key = ${projectKey} and plan_id = ${plan.id}::uuid`,
  );
  return {
    pending: items.filter((i) => i.status === "pending").map((i) => i.file_uuid).sort(),
    excluded: items.filter((i) => i.status === "excluded").map((i) => i.file_uuid).sort(),
  };
}

describe.each(backends)("the orphan policy on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("proposes only files unreferenced for the whole period and older than the grace period", async () => {
    const P = "orphans-fresh";
    const f = (n: number) => uuidOf(n, 41);
    const old = "2026-01-10T00:00:00Z";
    await insertFiles(database.db, [
      { projectKey: P, uuid: f(1), uploaded: old, stored: old }, // referenced by app-db throughout
      { projectKey: P, uuid: f(2), uploaded: old, stored: old }, // referenced by cms only
      { projectKey: P, uuid: f(3), uploaded: old, stored: old }, // never referenced: an orphan since the first reports (90 days)
      { projectKey: P, uuid: f(4), uploaded: old, stored: old }, // dropped by app-db 60 days ago: an orphan
      { projectKey: P, uuid: f(5), uploaded: old, stored: old }, // dropped 10 days ago: not long enough
      { projectKey: P, uuid: f(6), uploaded: days(3).toISOString(), stored: days(3).toISOString() }, // within the grace period
      { projectKey: P, uuid: f(7), uploaded: days(20).toISOString(), stored: days(20).toISOString() }, // past grace, unreferenced only 20 days
      { projectKey: P, uuid: f(8), uploaded: old, stored: old, removed: "2026-02-01T00:00:00Z" }, // removed: not a delete target
    ]);
    await push(database, P, "app-db", days(90), [f(1), f(4), f(5)]);
    await push(database, P, "cms", days(90), [f(2)]);
    await push(database, P, "app-db", days(60), [f(1), f(5)]);
    await push(database, P, "app-db", days(10), [f(1)]);
    // Both sources report again today: fresh.
    await push(database, P, "app-db", days(0), [f(1)]);
    await push(database, P, "cms", days(0), [f(2)]);

    const { pending } = await plannedFiles(database, P);
    expect(pending).toEqual([f(3), f(4)].sort());
  });

  it("never proposes a file only a stale source references, nor one unreferenced only since a stale source last reported", async () => {
    const P = "orphans-stale";
    const f = (n: number) => uuidOf(n, 42);
    const old = "2026-01-10T00:00:00Z";
    await insertFiles(
      database.db,
      [1, 2, 3, 4, 5].map((n) => ({ projectKey: P, uuid: f(n), uploaded: old, stored: old })),
    );
    // cms reported 90 and 40 days ago, and not since: stale (it should report every 48 hours).
    await push(database, P, "cms", days(90), [f(1), f(2)]);
    await push(database, P, "app-db", days(90), [f(3), f(4), f(5)]);
    await push(database, P, "cms", days(40), [f(1)]);
    // app-db, fresh, dropped f(4) 35 days ago (after cms's last report) and f(5) 50 days ago (before it).
    await push(database, P, "app-db", days(50), [f(3), f(4)]);
    await push(database, P, "app-db", days(35), [f(3)]);
    await push(database, P, "app-db", days(0), [f(3)]);

    const { pending } = await plannedFiles(database, P);
    // f(1): referenced only by the stale cms: kept. f(3): referenced. f(4): unreferenced only since
    // after cms went silent: cms might reference it now, so it is held. f(2): dropped by cms itself
    // 40 days ago, f(5): dropped 50 days ago, both before cms's last report: orphans.
    expect(pending).toEqual([f(2), f(5)].sort());
    const held = await queryRows<{ held: boolean }>(
      database.db,
      sql`select st.held_by_stale as held from files f, lateral (select * from (${fileReferenceStatus("f", sql`${NOW.toISOString()}::timestamptz`)}) x) st
          where f.project_key = ${P} and f.uuid = ${f(4)}::uuid`,
    );
    expect(held).toEqual([{ held: true }]);
  });

  it("proposes nothing in a project without reference sources", async () => {
    const P = "orphans-none";
    await insertFiles(database.db, [{ projectKey: P, uuid: uuidOf(1, 43), uploaded: "2026-01-10T00:00:00Z", stored: "2026-01-10T00:00:00Z" }]);
    await expect(plannedFiles(database, P)).rejects.toThrow(/acting on no file|no file/i);
  });
});
