import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/query.ts";
import { replaceReferences } from "../../src/sync/references/replace.ts";
import { insertFiles, uuidOf } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { deps, statuses, stream } from "./helpers.ts";

const HOUR_MS = 3_600_000;

describe.each(backends)("reporting.dim_file_v2 on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("says what the API and the policy condition say, stale sources and all", async () => {
    const P = "refs-view";
    const f = (n: number) => uuidOf(n, 51);
    const ago = (hours: number) => new Date(Date.now() - hours * HOUR_MS);
    await insertFiles(database.db, [
      ...[1, 2, 3, 4, 5, 6].map((n) => ({ projectKey: P, uuid: f(n), uploaded: ago(24 * 60).toISOString() })),
      { projectKey: P, uuid: f(7), uploaded: ago(2).toISOString() },
      { projectKey: "refs-view-none", uuid: f(8), uploaded: ago(24 * 60).toISOString() },
    ]);
    const push = (source: string, hoursAgo: number, uuids: string[]) =>
      replaceReferences(deps(database.db, () => ago(hoursAgo)), {
        projectKey: P,
        source,
        kind: "push",
        references: stream(uuids.map((uuid, i) => ({ ref: `${source}/${i}`, value: uuid }))),
        force: true,
        actor: "test",
      });
    await push("cms", 24 * 30, [f(1), f(2)]);
    await push("app-db", 24 * 30, [f(3), f(4), f(5)]);
    await push("cms", 24 * 5, [f(1)]); // cms: stale from here on (48 h)
    await push("app-db", 24 * 10, [f(3), f(4)]); // f(5) dropped before cms went silent
    await push("app-db", 24, [f(3)]); // f(4) dropped after: held by the stale cms
    await push("app-db", 1, [f(3)]);

    const view = await queryRows<{ file_uuid: string; is_referenced: boolean | null; unreferenced_since: string | null }>(
      database.db,
      sql`select file_uuid::text as file_uuid, is_referenced,
            to_char(unreferenced_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as unreferenced_since
          from reporting.dim_file_v2 where project_key in (${P}, 'refs-view-none') order by file_uuid`,
    );
    const fromCode = new Map([...(await statuses(database.db, P, new Date())), ...(await statuses(database.db, "refs-view-none", new Date()))]);
    expect(view).toEqual(view.map((v) => ({ file_uuid: v.file_uuid, is_referenced: fromCode.get(v.file_uuid)!.is_referenced, unreferenced_since: fromCode.get(v.file_uuid)!.unreferenced_since })));
    expect(view.map((v) => [Number(v.file_uuid.slice(-2)), v.is_referenced])).toEqual([
      [1, true],
      [2, false],
      [3, true],
      [4, true],
      [5, false],
      [6, false],
      [7, true],
      [8, null],
    ]);
    // The dim_file columns come first, unchanged.
    const [columns] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from information_schema.columns where table_schema = 'reporting' and table_name = 'dim_file_v2'`,
    );
    const [base] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from information_schema.columns where table_schema = 'reporting' and table_name = 'dim_file'`,
    );
    expect(columns!.n).toBe(base!.n + 2);
  });
});
