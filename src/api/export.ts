import type { Logger } from "../logger.ts";

/**
 * CSV and NDJSON exports, streamed a page at a time: the next page is read only
 * when the client has taken the last one, so memory stays flat whatever the
 * row count. CSV follows RFC 4180 (CRLF, fields quoted when they hold a comma,
 * quote, CR or LF; quotes doubled). Hand-written: the whole escaper is the one
 * function below, and no CSV library is installed.
 */

export interface Column<T> {
  name: string;
  value(item: T): unknown;
}

/** null → empty field; objects → their JSON; everything else → its string form. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(fields: unknown[]): string {
  return `${fields.map(csvField).join(",")}\r\n`;
}

export type ExportFormat = "csv" | "ndjson";

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  ndjson: "application/x-ndjson; charset=utf-8",
};

/** Rows per database round trip during an export. */
export const EXPORT_PAGE_ROWS = 5_000;

export function exportStream<T, P>(options: {
  format: ExportFormat;
  columns: Column<T>[];
  /** Reads the page after `position` (null: the first). */
  page(position: P | null, limit: number): Promise<{ items: T[]; next: P | null }>;
  start: P | null;
  /** Stop after this many rows; unlimited when undefined. */
  maxRows?: number | undefined;
  logger: Logger;
  requestId: string;
}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let position = options.start;
  let sent = 0;
  let headerSent = options.format !== "csv";
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(csvRow(options.columns.map((c) => c.name))));
          return;
        }
        if (finished) {
          controller.close();
          return;
        }
        const want = options.maxRows === undefined ? EXPORT_PAGE_ROWS : Math.min(EXPORT_PAGE_ROWS, options.maxRows - sent);
        let page: { items: T[]; next: P | null };
        try {
          page = await options.page(position, want);
        } catch (err) {
          // Headers are gone already: all that is left is to cut the stream short.
          const cause = (err as { cause?: unknown }).cause;
          options.logger.error({ requestId: options.requestId, cause: cause instanceof Error ? cause.message : String((err as Error).message) }, "export failed mid-stream");
          controller.error(new Error("export failed"));
          return;
        }
        let text = "";
        for (const item of page.items) {
          text += options.format === "csv" ? csvRow(options.columns.map((c) => c.value(item))) : `${JSON.stringify(item)}\n`;
        }
        sent += page.items.length;
        position = page.next;
        finished = page.next === null || (options.maxRows !== undefined && sent >= options.maxRows);
        if (text) controller.enqueue(encoder.encode(text));
        if (finished) controller.close();
      },
    },
    { highWaterMark: 1 },
  );
}
