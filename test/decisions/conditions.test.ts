import { sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/db/query.ts";
import { compileConditions, Condition, describeConditions, globToLike, restrictsFiles } from "../../src/decisions/conditions.ts";
import { PolicyCreate } from "../../src/decisions/policy.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

const dialect = new PgDialect();
const NOW = new Date("2026-03-01T12:00:00Z");

describe("the condition compiler", () => {
  it.each<[string, Condition, string, unknown[]]>([
    ["state", { kind: "state", in: ["stored"] }, "((f.datetime_removed is null and f.datetime_stored is not null))", []],
    [
      "several states",
      { kind: "state", in: ["unstored", "removed"] },
      "(((f.datetime_removed is null and f.datetime_stored is null) or f.datetime_removed is not null))",
      [],
    ],
    ["older than", { kind: "age", olderThanHours: 48 }, "(f.datetime_uploaded <= $1::timestamptz)", ["2026-02-27T12:00:00.000Z"]],
    [
      "an age window",
      { kind: "age", olderThanHours: 1, newerThanHours: 24 },
      "(f.datetime_uploaded <= $1::timestamptz and f.datetime_uploaded > $2::timestamptz)",
      ["2026-03-01T11:00:00.000Z", "2026-02-28T12:00:00.000Z"],
    ],
    ["size range", { kind: "size", minBytes: 10, maxBytes: 20 }, "(f.size >= $1 and f.size <= $2)", [10, 20]],
    ["exact mime", { kind: "mime", types: ["Image/PNG"] }, "(lower(f.mime_type) = $1)", ["image/png"]],
    ["mime family", { kind: "mime", types: ["image/*", "video/"] }, "((lower(f.mime_type) like $1 or lower(f.mime_type) like $2))", ["image/%", "video/%"]],
    ["metadata equals", { kind: "metadata", key: "tier", op: "equals", value: "cold" }, "((f.metadata ->> $1) = $2)", ["tier", "cold"]],
    ["metadata not equals", { kind: "metadata", key: "tier", op: "notEquals", value: "hot" }, "((f.metadata ->> $1) is distinct from $2)", ["tier", "hot"]],
    ["metadata absent", { kind: "metadata", key: "tier", op: "absent" }, "((f.metadata ->> $1) is null)", ["tier"]],
    [
      "appdata equals",
      { kind: "appdata", path: "uc_clamav_virus_scan.data.infected", op: "equals", value: true },
      "((f.appdata #> $1::text[]) = $2::jsonb)",
      [["uc_clamav_virus_scan", "data", "infected"], "true"],
    ],
    ["appdata exists", { kind: "appdata", path: "remove_bg", op: "exists" }, "((f.appdata #> $1::text[]) is not null)", [["remove_bg"]]],
    ["filename glob", { kind: "filename", pattern: "*_tmp?.png" }, "(f.original_filename ilike $1)", ["%\\_tmp_.png"]],
    ["case-sensitive filename", { kind: "filename", pattern: "Draft*", caseSensitive: true }, "(f.original_filename like $1)", ["Draft%"]],
  ])("compiles %s", (_name, condition, expectedSql, expectedParams) => {
    const parsed = Condition.parse(condition);
    const { sql: text, params } = dialect.sqlToQuery(compileConditions([parsed], { now: NOW }).where);
    expect(text).toBe(expectedSql);
    expect(params).toEqual(expectedParams);
  });

  it("joins conditions with and, and collects each one's evidence once", () => {
    const compiled = compileConditions(
      [
        { kind: "state", in: ["unstored"] },
        { kind: "age", olderThanHours: 2 },
        { kind: "metadata", key: "a", op: "exists" },
        { kind: "state", in: ["unstored"] },
      ],
      { now: NOW },
    );
    expect(dialect.sqlToQuery(compiled.where).sql.split(") and (").length).toBe(4);
    const evidence = dialect.sqlToQuery(compiled.evidence);
    expect(evidence.params.filter((p) => typeof p === "string" && !p.startsWith("20"))).toEqual(["state", "datetime_uploaded", "metadata.a", "a"]);
  });

  it("compiles no conditions to true and an empty evidence object", () => {
    const compiled = compileConditions([], { now: NOW });
    expect(dialect.sqlToQuery(compiled.where).sql).toBe("true");
    expect(dialect.sqlToQuery(compiled.evidence).sql).toBe("'{}'::jsonb");
  });

  it("is pure: the same conditions and time give the same SQL and parameters", () => {
    const conditions: Condition[] = [{ kind: "age", olderThanHours: 5 }, { kind: "mime", types: ["image/*"] }];
    expect(dialect.sqlToQuery(compileConditions(conditions, { now: NOW }).where)).toEqual(dialect.sqlToQuery(compileConditions(conditions, { now: NOW }).where));
  });

  it.each([
    ["*.tmp", "%.tmp"],
    ["report_?.csv", "report\\__.csv"],
    ["100%", "100\\%"],
    ["back\\slash", "back\\\\slash"],
  ])("turns the glob %s into the LIKE pattern %s", (glob, like) => {
    expect(globToLike(glob)).toBe(like);
  });

  it.each<[string, Condition[], boolean]>([
    ["no conditions", [], false],
    ["every state", [{ kind: "state", in: ["stored", "unstored", "removed"] }], false],
    ["a filename of stars", [{ kind: "filename", pattern: "**" }], false],
    ["a size from 0 with no maximum", [{ kind: "size", minBytes: 0 }], false],
    ["one state", [{ kind: "state", in: ["stored"] }], true],
    ["a match-all next to a real one", [{ kind: "filename", pattern: "*" }, { kind: "metadata", key: "k", op: "exists" }], true],
  ])("knows whether %s narrows the files", (_name, conditions, narrows) => {
    expect(restrictsFiles(conditions)).toBe(narrows);
  });

  it.each<[string, unknown, string]>([
    ["an unknown kind", { kind: "colour", in: ["red"] }, "conditions.0.kind"],
    ["an age without bounds", { kind: "age" }, "conditions.0"],
    ["an empty age window", { kind: "age", olderThanHours: 24, newerThanHours: 2 }, "conditions.0"],
    ["a negative size", { kind: "size", minBytes: -1 }, "conditions.0.minBytes"],
    ["equals without a value", { kind: "metadata", key: "k", op: "equals" }, "conditions.0"],
    ["a bad metadata key", { kind: "metadata", key: "bad key", op: "exists" }, "conditions.0.key"],
    ["a bad MIME type", { kind: "mime", types: ["png"] }, "conditions.0.types.0"],
    ["a bad appdata path", { kind: "appdata", path: "a..b", op: "exists" }, "conditions.0.path"],
    ["an unknown field", { kind: "state", in: ["stored"], extra: 1 }, "conditions.0"],
    ["unreferenced without days", { kind: "unreferenced" }, "conditions.0.forAtLeastDays"],
    ["a negative grace period", { kind: "unreferenced", forAtLeastDays: 30, graceDays: -1 }, "conditions.0.graceDays"],
  ])("refuses %s, naming where", (_name, condition, path) => {
    const result = PolicyCreate.safeParse({ name: "p", action: "delete", conditions: [condition] });
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path.join(".")).toBe(path);
  });

  it("refuses a policy that would match every file unless allowMatchAll is set", () => {
    const refused = PolicyCreate.safeParse({ name: "all", action: "delete", conditions: [] });
    expect(refused.error?.issues[0]).toMatchObject({ path: ["conditions"], message: expect.stringMatching(/would match every file/) });
    expect(PolicyCreate.safeParse({ name: "all", action: "delete", conditions: [], allowMatchAll: true }).success).toBe(true);
  });

  it("describes conditions for people", () => {
    expect(
      describeConditions([
        { kind: "state", in: ["unstored"] },
        { kind: "age", olderThanHours: 48 },
        { kind: "appdata", path: "uc_clamav_virus_scan.data.infected", op: "equals", value: true },
      ]),
    ).toEqual(["state is unstored", "uploaded at least 48 h ago", "appdata uc_clamav_virus_scan.data.infected = true"]);
    expect(describeConditions([{ kind: "unreferenced", forAtLeastDays: 30 }])).toEqual([
      "not referenced by any reference source for at least 30 days (and uploaded at least 7 days ago)",
    ]);
  });

  it("reads references at the check time and counts the days and the grace from the proposal", () => {
    const condition = Condition.parse({ kind: "unreferenced", forAtLeastDays: 30, graceDays: 2 });
    const checkedAt = new Date("2026-03-05T00:00:00Z");
    const { sql: text, params } = dialect.sqlToQuery(compileConditions([condition], { now: NOW, checkedAt }).where);
    expect(text).toMatch(/^\(f\.datetime_uploaded <= \$1::timestamptz\s+and exists \(select 1 from \(select /);
    expect(params[0]).toBe("2026-02-27T12:00:00.000Z");
    expect(params).toContain("2026-03-05T00:00:00.000Z");
    expect(params.at(-1)).toBe("2026-01-30T12:00:00.000Z");
    expect(restrictsFiles([condition])).toBe(true);
  });
});

interface FileFixture {
  uuid: string;
  uploaded: string;
  stored?: string | null;
  removed?: string | null;
  size?: number;
  mime?: string;
  name?: string;
  metadata?: Record<string, string>;
  appdata?: Record<string, unknown> | null;
}

const u = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const FILES: FileFixture[] = [
  { uuid: u(1), uploaded: "2026-02-01T00:00:00Z", stored: "2026-02-01T00:00:01Z", size: 100, mime: "image/png", name: "cat.png", metadata: { tier: "cold" } },
  { uuid: u(2), uploaded: "2026-03-01T10:00:00Z", size: 5_000, mime: "application/pdf", name: "Report_1.PDF", metadata: {} },
  { uuid: u(3), uploaded: "2026-01-01T00:00:00Z", removed: "2026-01-02T00:00:00Z", size: 50, mime: "video/mp4", name: "clip.mp4", metadata: { tier: "hot" } },
  {
    uuid: u(4),
    uploaded: "2026-02-20T00:00:00Z",
    stored: "2026-02-20T00:00:01Z",
    size: 900,
    mime: "image/jpeg",
    name: "eicar_x.jpg",
    metadata: { tier: "cold" },
    appdata: { uc_clamav_virus_scan: { data: { infected: true, infected_with: "Eicar" } } },
  },
  {
    uuid: u(5),
    uploaded: "2026-02-25T00:00:00Z",
    stored: "2026-02-25T00:00:01Z",
    size: 10,
    mime: "text/plain",
    name: "100%_done.txt",
    appdata: { uc_clamav_virus_scan: { data: { infected: false, infected_with: null } } },
  },
];

describe.each(backends)("compiled conditions on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  async function matching(conditions: Condition[]): Promise<number[]> {
    const rows = FILES.map((f) => ({
      uuid: f.uuid,
      datetime_uploaded: f.uploaded,
      datetime_stored: f.stored ?? null,
      datetime_removed: f.removed ?? null,
      size: f.size ?? 1,
      mime_type: f.mime ?? "application/octet-stream",
      original_filename: f.name ?? "file",
      metadata: f.metadata ?? {},
      appdata: f.appdata ?? null,
    }));
    const compiled = compileConditions(conditions.map((c) => Condition.parse(c)), { now: NOW });
    const found = await queryRows<{ uuid: string }>(
      database.db,
      sql`select f.uuid::text as uuid from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb)
            as f(uuid uuid, datetime_uploaded timestamptz, datetime_stored timestamptz, datetime_removed timestamptz, size bigint,
                 mime_type text, original_filename text, metadata jsonb, appdata jsonb)
          where ${compiled.where} order by f.uuid`,
    );
    return found.map((r) => Number(r.uuid.slice(-12)));
  }

  it.each<[string, Condition[], number[]]>([
    ["stored", [{ kind: "state", in: ["stored"] }], [1, 4, 5]],
    ["unstored", [{ kind: "state", in: ["unstored"] }], [2]],
    ["removed", [{ kind: "state", in: ["removed"] }], [3]],
    ["older than 10 days", [{ kind: "age", olderThanHours: 240 }], [1, 3]],
    ["uploaded in the last 12 hours", [{ kind: "age", newerThanHours: 12 }], [2]],
    ["exactly at the boundary counts as older", [{ kind: "age", olderThanHours: 2 }], [1, 2, 3, 4, 5]],
    ["at least 100 bytes", [{ kind: "size", minBytes: 100 }], [1, 2, 4]],
    ["at most 100 bytes", [{ kind: "size", maxBytes: 100 }], [1, 3, 5]],
    ["images", [{ kind: "mime", types: ["image/*"] }], [1, 4]],
    ["PDFs or videos", [{ kind: "mime", types: ["application/pdf", "video/"] }], [2, 3]],
    ["tier cold", [{ kind: "metadata", key: "tier", op: "equals", value: "cold" }], [1, 4]],
    ["tier not cold (absent counts)", [{ kind: "metadata", key: "tier", op: "notEquals", value: "cold" }], [2, 3, 5]],
    ["tier set", [{ kind: "metadata", key: "tier", op: "exists" }], [1, 3, 4]],
    ["tier absent", [{ kind: "metadata", key: "tier", op: "absent" }], [2, 5]],
    ["infected", [{ kind: "appdata", path: "uc_clamav_virus_scan.data.infected", op: "equals", value: true }], [4]],
    ["scanned", [{ kind: "appdata", path: "uc_clamav_virus_scan", op: "exists" }], [4, 5]],
    ["not scanned", [{ kind: "appdata", path: "uc_clamav_virus_scan", op: "absent" }], [1, 2, 3]],
    ["infected_with null is not absent", [{ kind: "appdata", path: "uc_clamav_virus_scan.data.infected_with", op: "equals", value: null }], [5]],
    ["a filename glob, any case", [{ kind: "filename", pattern: "report_?.pdf" }], [2]],
    ["a filename glob, case-sensitive", [{ kind: "filename", pattern: "report_?.pdf", caseSensitive: true }], []],
    ["a literal % and _ in a glob", [{ kind: "filename", pattern: "100%_*" }], [5]],
    [
      "several conditions, all must hold",
      [
        { kind: "state", in: ["stored"] },
        { kind: "metadata", key: "tier", op: "equals", value: "cold" },
        { kind: "size", minBytes: 500 },
      ],
      [4],
    ],
  ])("matches %s", async (_name, conditions, expected) => {
    expect(await matching(conditions)).toEqual(expected);
  });
});
