import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type App } from "../../src/api/app.ts";
import { runExportCommand } from "../../src/cli/export.ts";
import { parquetChunks } from "../../src/db/queries/export-parquet.ts";
import { EXPORT_VIEW_NAMES, viewColumns, viewPages } from "../../src/db/queries/export-views.ts";
import { refreshDailyRollup } from "../../src/db/queries/rollup.ts";
import { createToken } from "../../src/db/queries/tokens.ts";
import { queryRows } from "../../src/db/query.ts";
import { canonicalTimestamp, fromEpochMicros } from "../../src/db/timestamps.ts";
import { silentLogger } from "../../src/logger.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { parseCsv, seedReportingProject } from "./helpers.ts";

const P = "exports-p";
const BULK = 21_000;

/** What each PostgreSQL type of the views must be in Parquet: physical type, converted type, logical type. */
const PARQUET_OF: Record<string, [string, string | undefined, string | undefined]> = {
  text: ["BYTE_ARRAY", "UTF8", "STRING"],
  uuid: ["BYTE_ARRAY", "UTF8", "STRING"],
  jsonb: ["BYTE_ARRAY", "JSON", "JSON"],
  bigint: ["INT64", undefined, undefined],
  integer: ["INT32", undefined, undefined],
  "double precision": ["DOUBLE", undefined, undefined],
  // Money (numeric(14,2)) travels as DOUBLE: exact to the cent for amounts below 2^53 cents.
  "numeric(14,2)": ["DOUBLE", undefined, undefined],
  boolean: ["BOOLEAN", undefined, undefined],
  date: ["INT32", "DATE", "DATE"],
  "timestamp(6) with time zone": ["INT64", "TIMESTAMP_MICROS", "TIMESTAMP"],
  "timestamp with time zone": ["INT64", "TIMESTAMP_MICROS", "TIMESTAMP"],
};

/** age_days moves with the clock: a row can cross a day boundary between two reads. */
const withoutAge = ({ age_days: _age, ...rest }: Record<string, unknown>) => rest;

/** A CSV cell as the export writes it. */
const cell = (value: unknown) => (value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value));

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  // A copy of its own: a small Buffer.concat result is a view into a shared pool.
  return new Uint8Array(Buffer.concat(parts));
}

describe.each(backends)("reporting view exports on %s", (kind) => {
  let database: TestDatabase;
  let app: App;
  let viewer: string;
  let dir: string;
  let dimFileCount: number;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await seedReportingProject(database.db, P);
    // Enough rows for two row groups, with values CSV and Parquet must survive.
    await database.db.execute(sql`insert into files (project_key, uuid, datetime_uploaded, datetime_stored, size, mime_type, original_filename, metadata, appdata, data, first_seen_at, updated_at)
      select ${P}, md5('bulk' || i)::uuid, timestamptz '2025-01-01 00:00:00.000001+00' + i * interval '17 minutes 0.000003 seconds',
        case when i % 4 <> 0 then timestamptz '2025-01-01 00:00:00+00' + i * interval '17 minutes' + interval '1 hour' end,
        i * 1001, case when i % 2 = 0 then 'image/jpeg' else 'application/pdf' end,
        case i % 5 when 0 then 'quote " and, comma ' || i || '.jpg' when 1 then E'line\\r\\nbreak ' || i || '.pdf' when 2 then '日本語 ' || i else 'plain-' || i end,
        jsonb_build_object('i', i::text, 'note', E'a,"b"\\n'), case when i % 3 = 0 then '{"uc_clamav_virus_scan": {"data": {"infected": false}}}'::jsonb end,
        case when i % 2 = 0 then jsonb_build_object('content_info', jsonb_build_object('image', jsonb_build_object('width', i, 'height', i + 1, 'format', 'JPEG'))) else '{}'::jsonb end,
        now(), now()
      from generate_series(1, ${BULK}) i`);
    await refreshDailyRollup(database.db, P, { full: true });
    dimFileCount = (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from reporting.dim_file where project_key = ${P}`))[0]!.n;
    app = createApp({ database, logger: silentLogger, version: "test", projects: [] });
    viewer = (await createToken(database.db, { name: `viewer-${kind}`, role: "viewer", createdBy: "test", now: new Date() })).token;
    dir = await mkdtemp(join(tmpdir(), "ucledger-export-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await database?.close();
  });

  const get = (path: string, token: string | null = viewer) => app.request(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

  async function dbRows(view: string, keys: string): Promise<Record<string, unknown>[]> {
    return queryRows(database.db, sql`select * from ${sql.identifier("reporting")}.${sql.identifier(view)} where project_key = ${P} order by ${sql.raw(keys)}`);
  }

  function checkSchema(file: Uint8Array, columns: { name: string; type: string }[]) {
    const meta = parquetMetadata(file);
    const elements = meta.schema.slice(1);
    expect(elements.map((e) => e.name)).toEqual(columns.map((c) => c.name));
    for (const [i, column] of columns.entries()) {
      const e = elements[i]!;
      const expected = PARQUET_OF[column.type];
      expect(expected, `a Parquet type for ${column.type}`).toBeDefined();
      expect([e.type, e.converted_type, e.logical_type?.type], column.name).toEqual(expected);
      expect(e.repetition_type).toBe("OPTIONAL");
    }
    return meta;
  }

  it("serves dim_file as Parquet in row groups, with the view's row count, columns, types and values", async () => {
    const res = await get(`/v1/export/dim_file?format=parquet&project=${P}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.apache.parquet");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="dim_file.parquet"');
    // Streamed: the body arrives in several chunks, one or more per row group.
    let chunks = 0;
    const parts: Uint8Array[] = [];
    for await (const chunk of res.body!) {
      chunks += 1;
      parts.push(chunk);
    }
    const file = new Uint8Array(Buffer.concat(parts));
    expect(chunks).toBeGreaterThan(1);

    const columns = await viewColumns(database.db, "dim_file");
    const meta = checkSchema(file, columns);
    expect(Number(meta.num_rows)).toBe(dimFileCount);
    expect(dimFileCount).toBeGreaterThan(BULK);
    expect(meta.row_groups.length).toBe(Math.ceil(dimFileCount / 20_000));

    const rows = await parquetReadObjects({ file: file.buffer as ArrayBuffer, parsers: { timestampFromMicroseconds: (v: bigint | number) => BigInt(v) } } as never);
    const expected = await dbRows("dim_file", "project_key, file_uuid");
    expect(rows).toHaveLength(expected.length);
    const normalize = (row: Record<string, unknown>, fromParquet: boolean) =>
      Object.fromEntries(
        columns.map((c) => {
          const v = row[c.name];
          if (v === null || v === undefined) return [c.name, null];
          if (c.type.startsWith("timestamp")) return [c.name, fromParquet ? fromEpochMicros(v as bigint) : canonicalTimestamp(String(v))];
          if (c.type === "date") return [c.name, fromParquet ? (v as Date).toISOString().slice(0, 10) : v];
          if (c.type === "bigint") return [c.name, Number(v)];
          return [c.name, v];
        }),
      );
    expect(rows.map((row) => withoutAge(normalize(row, true)))).toEqual(expected.map((row) => withoutAge(normalize(row, false))));
    expect(rows.every((row, i) => Math.abs(Number(row.age_days) - Number(expected[i]!.age_days)) <= 1)).toBe(true);
  });

  it("writes the same Parquet file from the command line, atomically", async () => {
    const out = join(dir, "dim_file.parquet");
    const messages: string[] = [];
    const code = await runExportCommand(
      { db: database.db, logger: silentLogger, io: { stdout: () => {}, stderr: (t) => void messages.push(t) } },
      ["dim_file", "--format", "parquet", "--out", out, "--project", P],
    );
    expect(code).toBe(0);
    expect(messages.join("")).toBe(`exported ${dimFileCount} rows of reporting.dim_file to ${out}\n`);
    expect(existsSync(`${out}.partial`)).toBe(false);
    const file = new Uint8Array(await readFile(out));
    const meta = checkSchema(file, await viewColumns(database.db, "dim_file"));
    expect(Number(meta.num_rows)).toBe(dimFileCount);
    const fromApi = new Uint8Array(await (await get(`/v1/export/dim_file?format=parquet&project=${P}`)).arrayBuffer());
    // The same rows as the API serves.
    const fromFile = (await parquetReadObjects({ file: file.buffer as ArrayBuffer })).map(withoutAge);
    const served = (await parquetReadObjects({ file: fromApi.buffer as ArrayBuffer })).map(withoutAge);
    expect(fromFile).toEqual(served);
  });

  it("round-trips dim_file through CSV, from the API and from the command line alike", async () => {
    const res = await get(`/v1/export/dim_file?project=${P}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const text = await res.text();
    const [header, ...rows] = parseCsv(text);
    const columns = await viewColumns(database.db, "dim_file");
    expect(header).toEqual(columns.map((c) => c.name));
    const expected = await dbRows("dim_file", "project_key, file_uuid");
    expect(rows).toHaveLength(expected.length);
    const age = header!.indexOf("age_days");
    const others = (row: string[]) => row.filter((_, j) => j !== age);
    expect(rows.map(others)).toEqual(expected.map((row) => others(columns.map((c) => cell(row[c.name])))));
    expect(rows.every((row, i) => Math.abs(Number(row[age]) - Number(expected[i]!.age_days)) <= 1)).toBe(true);
    // JSON cells parse back to the stored objects.
    const metadata = header!.indexOf("metadata");
    expect(JSON.parse(rows.at(-1)![metadata]!)).toEqual(expected.at(-1)!.metadata);

    const out = join(dir, "dim_file.csv");
    expect(await runExportCommand({ db: database.db, logger: silentLogger, io: { stdout: () => {}, stderr: () => {} } }, ["dim_file", "--format", "csv", "--out", out, "--project", P])).toBe(0);
    const fromFile = parseCsv(await readFile(out, "utf8"));
    expect(fromFile.map(others)).toEqual([header!, ...rows].map(others));
  });

  it.each(EXPORT_VIEW_NAMES)("exports %s whole as Parquet with its row count", async (view) => {
    const columns = await viewColumns(database.db, view);
    const file = await collect(parquetChunks(columns, viewPages(database.db, { view, columns, pageRows: 700 }), { rowGroupRows: 1_000 }));
    const meta = checkSchema(file, columns);
    const [count] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from ${sql.identifier("reporting")}.${sql.identifier(view)}`);
    expect(count!.n).toBeGreaterThan(0);
    expect(Number(meta.num_rows)).toBe(count!.n);
    expect((await parquetReadObjects({ file: file.buffer as ArrayBuffer })).length).toBe(count!.n);
  });

  it("exports fct_daily_files as CSV with the running storage", async () => {
    const res = await get(`/v1/export/fct_daily_files?format=csv&project=${P}`);
    const [header, ...rows] = parseCsv(await res.text());
    const expected = await dbRows("fct_daily_files", "project_key, day");
    expect(rows.length).toBe(expected.length);
    expect(rows.at(-1)![header!.indexOf("storage_bytes_eod")]).toBe(String(expected.at(-1)!.storage_bytes_eod));
  });

  it("answers 400 for an unknown view or format, 404 for an unknown project, 401 without a token", async () => {
    const unknown = await get("/v1/export/files?format=csv");
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(/^view: must be one of dim_project/) });
    expect((await get("/v1/export/dim_file?format=xlsx")).status).toBe(400);
    expect((await get("/v1/export/dim_file?format=csv&project=nope")).status).toBe(404);
    expect((await get("/v1/export/dim_file", null)).status).toBe(401);
  });

  it("refuses unknown views and formats on the command line", async () => {
    const messages: string[] = [];
    const io = { stdout: () => {}, stderr: (t: string) => void messages.push(t) };
    expect(await runExportCommand({ db: database.db, logger: silentLogger, io }, ["files", "--format", "csv", "--out", join(dir, "x")])).toBe(2);
    expect(await runExportCommand({ db: database.db, logger: silentLogger, io }, ["dim_file", "--format", "xlsx", "--out", join(dir, "x")])).toBe(2);
    expect(messages.join("")).toMatch(/unknown view 'files'[\s\S]*--format must be csv or parquet/);
    expect(existsSync(join(dir, "x"))).toBe(false);
  });
});
