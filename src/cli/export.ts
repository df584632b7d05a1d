import { createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { exportStream, type Column } from "../api/export.ts";
import { openDatabase, type Db } from "../db/client.ts";
import { chunkStream, parquetChunks } from "../db/queries/export-parquet.ts";
import { EXPORT_VIEW_NAMES, isExportView, readViewPage, viewColumns, viewPages, type ExportView, type ViewRow } from "../db/queries/export-views.ts";
import { refreshAllDailyRollups, refreshDailyRollup } from "../db/queries/rollup.ts";
import { loadEnv } from "../env.ts";
import { EXIT_CONFIG } from "../errors.ts";
import { createLogger, type Logger } from "../logger.ts";
import { parseFlags } from "./runtime.ts";
import type { TokenIo } from "./token.ts";

const FORMATS = ["csv", "parquet"] as const;
type FileFormat = (typeof FORMATS)[number];

const USAGE = `usage: ucledger export VIEW --format csv|parquet --out FILE [--project KEY]\n  VIEW: ${EXPORT_VIEW_NAMES.join(", ")}`;

const processIo: TokenIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** `ucledger export …`: a reporting view to a CSV or Parquet file; needs only the database. */
export async function exportCommand(argv: string[]): Promise<number> {
  const env = loadEnv();
  const logger = createLogger(env.logLevel, { stderr: true });
  const database = await openDatabase({ url: env.databaseUrl, dataDir: env.databaseUrl ? undefined : env.dataDir });
  try {
    return await runExportCommand({ db: database.db, logger, io: processIo }, argv);
  } finally {
    await database.close();
  }
}

export interface ExportOptions {
  view: ExportView;
  format: FileFormat;
  out: string;
  project?: string | undefined;
}

/** The command's body, on an open database (tests call it directly). */
export async function runExportCommand(deps: { db: Db; logger: Logger; io: TokenIo }, argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { format: { type: "string" }, out: { type: "string" }, project: { type: "string" } }, "export");
  const [view, ...rest] = positionals;
  if (!view || rest.length > 0 || !values.format || !values.out) return usage(deps.io);
  if (!isExportView(view)) {
    deps.io.stderr(`ucledger export: unknown view '${view}'\n${USAGE}\n`);
    return EXIT_CONFIG;
  }
  if (!FORMATS.includes(values.format as FileFormat)) {
    deps.io.stderr(`ucledger export: --format must be csv or parquet\n`);
    return EXIT_CONFIG;
  }
  const rows = await exportViewToFile(deps, { view, format: values.format as FileFormat, out: values.out, project: values.project });
  deps.io.stderr(`exported ${rows} rows of reporting.${view} to ${values.out}\n`);
  return 0;
}

/**
 * Streams the view into `out` a page at a time, through a temporary file renamed
 * into place at the end, so a failed export never leaves a truncated file behind.
 * Daily facts are brought up to date first.
 */
export async function exportViewToFile(deps: { db: Db; logger: Logger }, options: ExportOptions): Promise<number> {
  if (options.view === "fct_daily_files" || options.view === "fct_daily_files_v2") {
    if (options.project) await refreshDailyRollup(deps.db, options.project);
    else await refreshAllDailyRollups(deps.db);
  }
  const columns = await viewColumns(deps.db, options.view);
  let rows = 0;
  let body: ReadableStream<Uint8Array>;
  if (options.format === "parquet") {
    const pages = viewPages(deps.db, { view: options.view, columns, project: options.project });
    body = chunkStream(parquetChunks(columns, pages, { onRows: (n) => (rows += n) }), (err) => logFailure(deps.logger, err));
  } else {
    body = exportStream<ViewRow, string[]>({
      format: "csv",
      columns: columns.map((c): Column<ViewRow> => ({ name: c.name, value: (row) => row[c.name] })),
      page: async (after, limit) => {
        const page = await readViewPage(deps.db, { view: options.view, columns, project: options.project, after, limit });
        rows += page.items.length;
        return page;
      },
      start: null,
      logger: deps.logger,
      requestId: "cli",
    });
  }
  const partial = `${options.out}.partial`;
  try {
    await pipeline(Readable.fromWeb(body as NodeReadableStream<Uint8Array>), createWriteStream(partial));
    await rename(partial, options.out);
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  }
  return rows;
}

/** A drizzle error's message holds the whole query: log the driver's cause. */
function logFailure(logger: Logger, err: unknown): void {
  const cause = (err as { cause?: unknown }).cause;
  logger.error({ cause: cause instanceof Error ? cause.message : String((err as Error).message) }, "export failed mid-stream");
}

function usage(io: TokenIo): number {
  io.stderr(`${USAGE}\n`);
  return EXIT_CONFIG;
}
