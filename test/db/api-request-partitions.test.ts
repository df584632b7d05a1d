import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropExpiredApiRequests, ensureApiRequestPartitions } from "../../src/db/api-request-partitions.ts";
import { queryRows } from "../../src/db/query.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

describe.each(backends)("api_requests monthly partitions on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  const insertAt = (at: string) =>
    database.db.execute(sql`insert into api_requests (project_key, id, requested_at, source, api, method, path, duration_ms)
                            values ('p', ${randomUUID()}, ${at}::timestamptz, 'ucledger', 'rest', 'GET', '/files/', 5)`);
  const whereRows = () =>
    queryRows<{ partition: string; n: number }>(
      database.db,
      sql`select tableoid::regclass::text as partition, count(*)::int as n from api_requests group by 1 order by 1`,
    );

  it("moves a month's rows out of the default partition when its partition is created, and keeps every row", async () => {
    await insertAt("2026-11-03T10:00:00Z");
    await insertAt("2026-12-31T23:59:59.999999Z");
    await insertAt("2025-01-15T00:00:00Z");
    const created = await ensureApiRequestPartitions(database.db, new Date("2026-11-26T00:00:00Z"), 1);
    expect(created).toEqual(["api_requests_p202611", "api_requests_p202612"]);
    expect(await whereRows()).toEqual([
      { partition: "api_requests_default", n: 1 },
      { partition: "api_requests_p202611", n: 1 },
      { partition: "api_requests_p202612", n: 1 },
    ]);
    expect(await ensureApiRequestPartitions(database.db, new Date("2026-11-26T00:00:00Z"), 1)).toEqual([]);
  });

  it("drops months past the retention period whole, and expired rows left in the default", async () => {
    const dropped = await dropExpiredApiRequests(database.db, new Date("2028-01-10T00:00:00Z"), 400);
    expect(dropped).toEqual(["api_requests_p202611"]);
    expect(await whereRows()).toEqual([{ partition: "api_requests_p202612", n: 1 }]);
  });
});
