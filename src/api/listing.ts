import type { Context } from "hono";
import { accepts } from "hono/accepts";
import type { Queryable } from "../db/client.ts";
import type { CountMode, KeysetOrder, KeysetPosition, Total } from "../db/queries/keyset.ts";
import { projectKeys } from "../db/queries/project-list.ts";
import { NotFoundError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { CONTENT_TYPES, exportStream, type Column, type ExportFormat } from "./export.ts";
import type { Format } from "./params.ts";

/** Rows of a JSON page when `limit` is not given. */
export const DEFAULT_PAGE_ROWS = 100;

/** `?format=` wins; else the Accept header picks; JSON by default. */
export function negotiateFormat(c: Context, format: Format | undefined): Format {
  if (format) return format;
  const type = accepts(c, {
    header: "Accept",
    supports: ["application/json", "text/csv", "application/x-ndjson"],
    default: "application/json",
  });
  return type === "text/csv" ? "csv" : type === "application/x-ndjson" ? "ndjson" : "json";
}

/** The projects a request covers: the one named (404 when unknown), else all. */
export async function resolveProjects(db: Queryable, project: string | undefined, extra: string[] = []): Promise<string[]> {
  const known = [...(await projectKeys(db)), ...extra];
  if (project === undefined) return known;
  if (!known.includes(project)) throw new NotFoundError("project", project);
  return [project];
}

export interface ListSpec<T> {
  /** Names the listing and its order, so a cursor is only accepted where it was made. */
  scope: string;
  order: KeysetOrder;
  columns: Column<T>[];
  page(after: KeysetPosition | null, limit: number): Promise<{ items: T[]; next: KeysetPosition | null }>;
  count?(mode: CountMode): Promise<Total & { atLeast?: number }>;
}

export interface ListInput {
  format?: Format | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
  count?: CountMode | undefined;
}

/** Answers a list route: one JSON page with a cursor, or every row as CSV/NDJSON. */
export async function respondList<T>(c: Context, deps: { logger: Logger }, spec: ListSpec<T>, input: ListInput): Promise<Response> {
  const after = input.cursor ? decodeCursor(input.cursor, spec.scope, spec.order) : null;
  const format = negotiateFormat(c, input.format);
  if (format !== "json") return exportResponse(c, deps, spec, format, after, input.limit);

  const limit = input.limit ?? DEFAULT_PAGE_ROWS;
  // Two queries at once: on a server they run on two pool connections.
  const [page, total] = await Promise.all([
    spec.page(after, limit),
    spec.count ? spec.count(input.count ?? "auto") : Promise.resolve<Total & { atLeast?: number }>({ total: null, exact: false }),
  ]);
  return c.json(
    {
      data: page.items,
      nextCursor: page.next ? encodeCursor(spec.scope, page.next) : null,
      total: total.total,
      totalExact: total.exact,
      // Only when the rows could be neither counted cheaply nor estimated from real statistics.
      ...("atLeast" in total && total.atLeast !== undefined ? { totalAtLeast: total.atLeast } : {}),
    },
    200,
  );
}

function exportResponse<T>(
  c: Context,
  deps: { logger: Logger },
  spec: ListSpec<T>,
  format: ExportFormat,
  after: KeysetPosition | null,
  maxRows: number | undefined,
): Response {
  const body = exportStream({
    format,
    columns: spec.columns,
    page: (position, limit) => spec.page(position, limit),
    start: after,
    maxRows,
    logger: deps.logger,
    requestId: c.get("requestId") as string,
  });
  const name = spec.scope.split(":")[0] ?? "export";
  return c.body(body, 200, {
    "Content-Type": CONTENT_TYPES[format],
    "Content-Disposition": `attachment; filename="${name}.${format === "csv" ? "csv" : "ndjson"}"`,
    "Cache-Control": "no-store",
  });
}
