import { sql, type SQL } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/db/client.ts";
import { queryRows } from "../../src/db/query.ts";
import { listAccess } from "../../src/db/queries/access-log.ts";
import { listApiRequests } from "../../src/db/queries/api-requests.ts";
import { listEvents } from "../../src/db/queries/events.ts";
import { listFiles } from "../../src/db/queries/files.ts";
import { listSyncRuns } from "../../src/db/queries/sync-runs.ts";
import { listUsage } from "../../src/db/queries/usage-series.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { insertFiles, uuidOf } from "./helpers.ts";

/** A Db that remembers the statements it is given, so a test can EXPLAIN them. */
function recording(db: Db): { db: Db; statements: SQL[] } {
  const statements: SQL[] = [];
  const proxy = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === "execute") {
        return (query: SQL) => {
          statements.push(query);
          return target.execute(query);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
  return { db: proxy, statements };
}

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

/**
 * Every page of one project must come straight off an index in order: with
 * sorting and sequential scans priced out, a plan that still sorts means the
 * ORDER BY is not one any index can serve (as when it named a `::text` alias).
 * (Tokens and projects are a few rows each: they sort in memory, unindexed.)
 */
describe.each(backends)("list queries read an index in order on %s", (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await insertFiles(database.db, [{ projectKey: "plans-p", uuid: uuidOf(1), uploaded: "2026-01-01T00:00:00Z" }]);
  });
  afterAll(async () => {
    await database?.close();
  });

  const after = (lead: (string | number | boolean)[], tie: string | number) => ({ lead, projectKey: "plans-p", tie });
  const T = "2026-01-01T00:00:00.000000Z";
  const projects = ["plans-p"];

  it.each<[string, (db: Db) => Promise<unknown>, string | undefined]>([
    ["files by upload time", (db) => listFiles(db, { filter: { projects }, sort: "uploaded", direction: "desc", after: after([T], uuidOf(1)), limit: 100 }), "files_uploaded_idx"],
    ["files by size", (db) => listFiles(db, { filter: { projects }, sort: "size", direction: "asc", after: after([10], uuidOf(1)), limit: 100 }), "files_size_idx"],
    ["removed files", (db) => listFiles(db, { filter: { projects, removed: true }, sort: "uploaded", direction: "desc", after: null, limit: 100 }), "files_removed_idx"],
    ["missing files", (db) => listFiles(db, { filter: { projects, missing: true }, sort: "uploaded", direction: "desc", after: null, limit: 100 }), "files_missing_idx"],
    ["one MIME type", (db) => listFiles(db, { filter: { projects, mimeType: "image/png" }, sort: "uploaded", direction: "desc", after: after([T], uuidOf(1)), limit: 100 }), "files_mime_idx"],
    ["audit events", (db) => listEvents(db, { filter: { projects }, direction: "desc", after: after([T], 5), limit: 100 }), "file_events_observed_idx"],
    ["one file's events", (db) => listEvents(db, { filter: { projects, fileUuid: uuidOf(1) }, direction: "asc", after: null, limit: 100 }), undefined],
    ["API log, recent", (db) => listApiRequests(db, { filter: { projects }, order: "recent", after: null, limit: 100 }), undefined],
    ["API log, errors first", (db) => listApiRequests(db, { filter: { projects }, order: "errors_first", after: after([true, T], uuidOf(1)), limit: 100 }), undefined],
    ["API log, 5xx", (db) => listApiRequests(db, { filter: { projects, statuses: [{ class: 5 }] }, order: "recent", after: null, limit: 100 }), undefined],
    ["sync runs", (db) => listSyncRuns(db, { filter: { projects }, after: after([T], uuidOf(1)), limit: 100 }), "sync_runs_recent_idx"],
    ["usage", (db) => listUsage(db, { filter: { projects }, direction: "asc", after: after(["2026-01-01"], "traffic"), limit: 100 }), "usage_daily_pkey"],
    ["access log", (db) => listAccess(db, { filter: {}, after: null, limit: 100 }), "api_access_log_time_idx"],
  ])("%s", async (_, run, index) => {
    const rec = recording(database.db);
    await run(rec.db);
    const page = rec.statements.find((s) => /\blimit\b/i.test(JSON.stringify(s.queryChunks)) && /\border by\b/i.test(JSON.stringify(s.queryChunks)));
    expect(page).toBeDefined();
    const plan = await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_sort = off`);
      await tx.execute(sql`set local enable_seqscan = off`);
      const [row] = await queryRows<{ "QUERY PLAN": unknown }>(tx, sql`explain (format json) ${page!}`);
      const raw = row!["QUERY PLAN"];
      return (typeof raw === "string" ? JSON.parse(raw) : raw) as [{ Plan: PlanNode }];
    });
    const all = nodes(plan[0].Plan);
    expect(all.map((n) => n["Node Type"])).not.toContain("Sort");
    if (index) expect(all.map((n) => n["Index Name"]).filter(Boolean).join(" ")).toContain(index);
  });
});
