import { ByteWriter, ParquetWriter, type ColumnSource, type SchemaElement } from "hyparquet-writer";
import { toEpochMicros } from "../timestamps.ts";
import type { SurfaceColumn } from "./analyst.ts";
import type { ViewRow } from "./export-views.ts";

/**
 * Parquet for BI tools that prefer files, written a row group at a time: each
 * group is encoded, handed on and forgotten, so memory holds one group however
 * long the view. Types follow the view's columns: text and uuid as UTF-8
 * strings, jsonb as JSON, bigint INT64, integer INT32, double DOUBLE, date DATE,
 * timestamptz as microsecond UTC timestamps (exact; Uploadcare's times carry
 * microseconds). Every column is OPTIONAL, as views promise no NOT NULL.
 */

/** Rows per row group: large enough for good compression, small enough to hold in memory. */
export const PARQUET_ROW_GROUP_ROWS = 20_000;

export const PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet";

type Kind = "string" | "json" | "int64" | "int32" | "double" | "boolean" | "date" | "timestamp";

export function parquetKind(pgType: string): Kind {
  if (pgType === "bigint") return "int64";
  if (pgType === "integer" || pgType === "smallint") return "int32";
  if (pgType === "double precision" || pgType === "real" || pgType.startsWith("numeric")) return "double";
  if (pgType === "boolean") return "boolean";
  if (pgType === "date") return "date";
  if (/^timestamp(\(\d\))? with time zone$/.test(pgType)) return "timestamp";
  if (pgType === "jsonb" || pgType === "json") return "json";
  return "string";
}

function schemaElement(column: SurfaceColumn): SchemaElement {
  const base = { name: column.name, repetition_type: "OPTIONAL" as const };
  switch (parquetKind(column.type)) {
    case "int64":
      return { ...base, type: "INT64" };
    case "int32":
      return { ...base, type: "INT32" };
    case "double":
      return { ...base, type: "DOUBLE" };
    case "boolean":
      return { ...base, type: "BOOLEAN" };
    case "date":
      return { ...base, type: "INT32", converted_type: "DATE", logical_type: { type: "DATE" } };
    case "timestamp":
      return {
        ...base,
        type: "INT64",
        converted_type: "TIMESTAMP_MICROS",
        logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MICROS" },
      };
    case "json":
      return { ...base, type: "BYTE_ARRAY", converted_type: "JSON", logical_type: { type: "JSON" } };
    case "string":
      return { ...base, type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } };
  }
}

export function parquetSchema(columns: SurfaceColumn[]): SchemaElement[] {
  return [{ name: "root", num_children: columns.length }, ...columns.map(schemaElement)];
}

const DAY_MS = 86_400_000;

/** A driver value in the form the column's Parquet type takes. */
function convert(kind: Kind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case "int64":
      return BigInt(value as number | string);
    case "int32":
    case "double":
      return Number(value);
    case "boolean":
      return Boolean(value);
    case "date":
      return Math.round(Date.parse(`${String(value)}T00:00:00Z`) / DAY_MS);
    case "timestamp":
      return toEpochMicros(String(value));
    case "json":
      return typeof value === "string" ? JSON.parse(value) : value;
    case "string":
      return typeof value === "string" ? value : String(value);
  }
}

function columnData(columns: SurfaceColumn[], rows: ViewRow[]): ColumnSource[] {
  return columns.map((column) => {
    const kind = parquetKind(column.type);
    return { name: column.name, data: rows.map((row) => convert(kind, row[column.name])) as ColumnSource["data"] };
  });
}

/** Hands each finished row group's bytes on instead of growing one buffer for the whole file. */
class ChunkWriter extends ByteWriter {
  readonly chunks: Uint8Array[] = [];

  flush(): void {
    if (this.index === 0) return;
    this.chunks.push(this.getBytes().slice());
    this.index = 0;
  }

  override finish(): void {
    this.flush();
  }

  take(): Uint8Array[] {
    return this.chunks.splice(0);
  }
}

/** A Parquet file, chunk by chunk, from pages of rows; pulls the next page only as chunks are taken. */
export async function* parquetChunks(
  columns: SurfaceColumn[],
  pages: AsyncIterable<ViewRow[]>,
  options: { rowGroupRows?: number; onRows?: (count: number) => void } = {},
): AsyncGenerator<Uint8Array> {
  const groupRows = options.rowGroupRows ?? PARQUET_ROW_GROUP_ROWS;
  const writer = new ChunkWriter();
  const parquet = new ParquetWriter({ writer, schema: parquetSchema(columns), createdBy: "ucledger" });
  let pending: ViewRow[] = [];
  const writeGroup = async () => {
    await parquet.write({ columnData: columnData(columns, pending), rowGroupSize: pending.length });
    options.onRows?.(pending.length);
    pending = [];
  };
  for await (const page of pages) {
    pending.push(...page);
    if (pending.length >= groupRows) {
      await writeGroup();
      yield* writer.take();
    }
  }
  if (pending.length > 0) await writeGroup();
  await parquet.finish();
  yield* writer.take();
}

/** The generator as a web stream, for HTTP bodies and Node pipelines alike. */
export function chunkStream(chunks: AsyncGenerator<Uint8Array>, onError?: (err: unknown) => void): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await chunks.next();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (err) {
          onError?.(err);
          controller.error(new Error("export failed"));
        }
      },
      async cancel() {
        await chunks.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}
