import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, insertFiles, uuidOf, type ApiHarness, type ErrorBody } from "./helpers.ts";

/**
 * Hand-made cursors and date filters holding days that do not exist. JavaScript's
 * Date takes `2024-02-30` (it rolls over to March 1); PostgreSQL refuses it. Every
 * list route must answer 400 naming the parameter, never pass such a value on.
 */

const P = "cursor-dates-p";
const ID = uuidOf(1, 41);

const cursor = (scope: string, lead: unknown[], tie: unknown, projectKey = P) =>
  Buffer.from(JSON.stringify({ s: scope, l: lead, p: projectKey, t: tie }), "utf8").toString("base64url");

/** Days and times JavaScript's Date accepts (or a zone it accepts) that PostgreSQL refuses. */
const BAD_TIMES = [
  "2024-02-30T00:00:00.000000Z",
  "2023-02-29T12:00:00Z",
  "2024-04-31T00:00:00+02:00",
  "2024-01-01T24:00:00.5Z",
  "2024-01-01T00:00:00+16:00",
];
const BAD_DAYS = ["2024-02-30", "2023-02-29", "2024-04-31"];

interface ListCase {
  path: string;
  scope: string;
  /** The cursor's lead values with the timestamp (or day) to try in place of `$`. */
  lead: (bad: string) => unknown[];
  tie: unknown;
  bad: string[];
}

const LISTS: ListCase[] = [
  { path: "/v1/files", scope: "files:uploaded:desc", lead: (t) => [t], tie: ID, bad: BAD_TIMES },
  { path: "/v1/files?order=asc", scope: "files:uploaded:asc", lead: (t) => [t], tie: ID, bad: BAD_TIMES },
  { path: "/v1/events", scope: "events:desc", lead: (t) => [t], tie: 1, bad: BAD_TIMES },
  { path: `/v1/files/${ID}/events`, scope: "events:asc", lead: (t) => [t], tie: 1, bad: BAD_TIMES },
  { path: "/v1/api-logs", scope: "api-logs:recent", lead: (t) => [t], tie: ID, bad: BAD_TIMES },
  { path: "/v1/api-logs?order=errors_first", scope: "api-logs:errors_first", lead: (t) => [true, t], tie: ID, bad: BAD_TIMES },
  { path: "/v1/usage", scope: "usage:asc", lead: (d) => [d], tie: "traffic", bad: BAD_DAYS },
  { path: "/v1/sync/runs", scope: "sync-runs", lead: (t) => [t], tie: ID, bad: BAD_TIMES },
  { path: "/v1/tokens", scope: "tokens:live", lead: (t) => [t], tie: ID, bad: BAD_TIMES },
  { path: "/v1/access-log", scope: "access-log", lead: (t) => [t], tie: ID, bad: BAD_TIMES },
  { path: "/v1/plans", scope: "plans", lead: (t) => [t], tie: ID, bad: BAD_TIMES },
  { path: "/v1/reports", scope: "reports", lead: (t) => [t], tie: ID, bad: BAD_TIMES },
  { path: `/v1/references/app-db/snapshots?project=${P}`, scope: `reference-snapshots:${P}:app-db`, lead: (t) => [t], tie: ID, bad: BAD_TIMES },
];

/** Date and time filters that reach SQL, with a value of their kind. */
const FILTERS: { path: string; param: string; bad: string[] }[] = [
  { path: "/v1/files", param: "uploadedFrom", bad: BAD_TIMES },
  { path: "/v1/files", param: "uploadedTo", bad: BAD_TIMES },
  { path: "/v1/events", param: "from", bad: BAD_TIMES },
  { path: "/v1/events", param: "to", bad: BAD_TIMES },
  { path: "/v1/api-logs", param: "from", bad: BAD_TIMES },
  { path: "/v1/api-logs", param: "to", bad: BAD_TIMES },
  { path: "/v1/sync/runs", param: "startedFrom", bad: BAD_TIMES },
  { path: "/v1/sync/runs", param: "startedTo", bad: BAD_TIMES },
  { path: "/v1/access-log", param: "from", bad: BAD_TIMES },
  { path: "/v1/access-log", param: "to", bad: BAD_TIMES },
  { path: "/v1/usage", param: "from", bad: BAD_DAYS },
  { path: "/v1/usage", param: "to", bad: BAD_DAYS },
  { path: "/v1/stats/summary", param: "from", bad: BAD_DAYS },
  { path: "/v1/stats/summary", param: "to", bad: BAD_DAYS },
];

const withQuery = (path: string, query: string) => `${path}${path.includes("?") ? "&" : "?"}${query}`;

describe.each(backends)("impossible dates in cursors and filters on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await insertFiles(database.db, [{ projectKey: P, uuid: ID, uploaded: "2024-02-29T12:00:00Z" }]);
    api = await apiHarness(database, { projects: [{ publicKey: P }] });
    // The snapshots route lists only a source that exists.
    const put = await api.call(`/v1/references/app-db?project=${P}`, {
      method: "PUT",
      role: "operator",
      headers: { "Content-Type": "application/x-ndjson" },
      body: `${JSON.stringify({ ref: "r1", value: ID })}\n`,
    });
    expect(put.status).toBe(200);
  });
  afterAll(async () => {
    await database?.close();
  });

  it("answers 400 naming cursor on every list route, as JSON and as an export", async () => {
    const failures: string[] = [];
    for (const list of LISTS) {
      for (const bad of list.bad) {
        for (const format of ["json", "csv"]) {
          const path = withQuery(list.path, `format=${format}&cursor=${cursor(list.scope, list.lead(bad), list.tie)}`);
          const res = await api.call(path);
          const body = (await res.json().catch(() => null)) as ErrorBody | null;
          if (res.status !== 400 || !body?.error.message.startsWith("cursor: ")) failures.push(`${list.path} ${bad} ${format} -> ${res.status} ${body?.error.message}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("still takes a cursor holding a real day, in any accepted form", async () => {
    // 2024-02-29 exists; written with an offset it is the same instant as 11:00Z.
    for (const list of LISTS) {
      const good = list.bad === BAD_DAYS ? "2024-02-29" : "2024-02-29T12:00:00+01:00";
      const res = await api.call(withQuery(list.path, `cursor=${cursor(list.scope, list.lead(good), list.tie)}`));
      expect(res.status, list.path).toBe(200);
    }
    const files = await api.json<{ data: { uuid: string }[] }>(`/v1/files?cursor=${cursor("files:uploaded:desc", ["2024-02-29T12:00:00.000001Z"], ID)}`);
    expect(files.body.data.map((f) => f.uuid)).toEqual([ID]);
    const none = await api.json<{ data: { uuid: string }[] }>(`/v1/files?cursor=${cursor("files:uploaded:desc", ["2024-02-29T12:00:00+01:00"], ID)}`);
    expect(none.body.data).toEqual([]);
  });

  it("answers 400 naming the parameter for an impossible date filter", async () => {
    const failures: string[] = [];
    for (const filter of FILTERS) {
      for (const bad of filter.bad) {
        const res = await api.call(withQuery(filter.path, `${filter.param}=${encodeURIComponent(bad)}`));
        const body = (await res.json().catch(() => null)) as ErrorBody | null;
        if (res.status !== 400 || !body?.error.message.startsWith(`${filter.param}: `)) failures.push(`${filter.path} ${filter.param}=${bad} -> ${res.status} ${body?.error.message}`);
      }
    }
    expect(failures).toEqual([]);
    // Real days pass, leap day included.
    expect((await api.call("/v1/files?uploadedFrom=2024-02-29T00:00:00Z&uploadedTo=2024-03-01T00:00:00%2B15:00")).status).toBe(200);
    expect((await api.call("/v1/usage?from=2024-02-29&to=2024-03-01")).status).toBe(200);
  });
});
