// First: the API modules extend zod with OpenAPI metadata before the decisions' schemas load.
import "../api/helpers.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addReference } from "../../src/sync/references/single.ts";
import { replaceReferences } from "../../src/sync/references/replace.ts";
import { applyPlan, approvedPlan, itemStatuses, scene, uploadOld, type Scene } from "../decisions/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { deps, stream } from "./helpers.ts";

const DAY_MS = 86_400_000;

describe.each(backends)("applying an orphan plan on %s", (kind) => {
  let database: TestDatabase;
  let s: Scene;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    s = await scene(database, { files: 0 });
  });
  afterAll(async () => {
    await s?.close();
    await database?.close();
  });

  it("re-reads references at apply: a file referenced since the plan is skipped, the orphans are deleted", async () => {
    const files = uploadOld(s.sandbox, 10, { ageHours: 24 * 30 });
    await s.sync();
    const projectKey = s.sandbox.publicKey;
    const settings = { sources: [{ name: "app-db", projectKey, staleAfterHours: 24 * 60, pull: undefined }] };
    const at = (daysAgo: number) => () => new Date(Date.now() - daysAgo * DAY_MS);
    const set = files.slice(0, 5).map((uuid, i) => ({ ref: `posts/${i}`, value: `https://ucarecdn.com/${uuid}/-/preview/` }));
    await replaceReferences(deps(database.db, at(20), settings), { projectKey, source: "app-db", kind: "push", references: stream(set), force: false, actor: "test" });
    await replaceReferences(deps(database.db, at(1), settings), { projectKey, source: "app-db", kind: "push", references: stream(set), force: false, actor: "test" });

    const plan = await approvedPlan(s, { name: "orphans", template: "delete-orphans", params: { days: 10, graceDays: 1 } });
    expect(plan.fileCount).toBe(5);

    // After the plan, the application starts using one of the orphans.
    await addReference(deps(database.db, () => new Date(), settings), { projectKey, source: "app-db", ref: "posts/new", value: files[5]!, actor: "test" });

    const summary = await applyPlan(s, plan.id);
    expect(summary.status).toBe("applied");
    const items = await itemStatuses(database.db, plan.id);
    expect(items.get(files[5]!)?.status).toBe("skipped");
    expect(items.get(files[5]!)?.reason).toMatch(/^changed since the plan: references\.referenced false → true; references\.unreferenced_since "[^"]+" → null$/);
    expect(files.slice(6).map((u) => items.get(u)?.status)).toEqual(["done", "done", "done", "done"]);
    expect(files.slice(0, 5).some((u) => items.has(u))).toBe(false);
  });
});
