import type { SandboxContext } from "./context.ts";
import { REMOVED, STORED, UNSTORED, type FileTable } from "./file-table.ts";
import { BadJson, Router, detail, jsonBody, notFound, ok, parseBool, type ApiRequest, type ApiResult } from "./http.ts";
import { apiInitiator } from "./lifecycle.ts";
import { paginate, type Cursor, type Sequence } from "./paginate.ts";
import { isoMicros, isoTieCursor, parseIsoCursor, type IsoCursor } from "./time.ts";
import { isUuid } from "./uuid.ts";

// GET /files/, file info, and single and batch store/delete.

export const PAGE_LIMIT_MAX = 1000;
export const PAGE_LIMIT_DEFAULT = 100;
export const BATCH_UUIDS_MAX = 100;

/** The project's files in upload order (or reversed), filtered by stored/removed. */
class FileSequence implements Sequence {
  readonly length: number;

  constructor(
    private readonly table: FileTable,
    private readonly descending: boolean,
    private readonly wanted: (status: number) => boolean,
  ) {
    this.length = table.orderLen;
  }

  indexAt(p: number): number {
    return this.table.order[this.descending ? this.length - 1 - p : p] as number;
  }

  keyAt(p: number): number {
    const t = this.table.uploaded[this.indexAt(p)] as number;
    return this.descending ? -t : t;
  }

  matches(p: number): boolean {
    return this.wanted(this.table.status[this.indexAt(p)] as number);
  }
}

export interface ListQuery {
  limit: number;
  descending: boolean;
  from?: IsoCursor;
  to?: IsoCursor;
  offset: number;
  removed: boolean;
  stored?: boolean;
  includeAppdata: boolean;
  /** Params carried into next/previous links, in order. */
  carried: [string, string][];
}

/** Parses the listing query; the same rules serve /groups/ (with its own ordering field). */
export function parseListQuery(q: URLSearchParams, orderingField: string): ListQuery | ApiResult {
  const carried: [string, string][] = [];
  const limitText = q.get("limit");
  let limit = PAGE_LIMIT_DEFAULT;
  if (limitText !== null && limitText !== "") {
    // [inf] The real API may clamp; the sandbox refuses, so clients notice.
    if (!/^\d+$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > PAGE_LIMIT_MAX) {
      return detail(400, `\`limit\` must be an integer between 1 and ${PAGE_LIMIT_MAX}.`);
    }
    limit = Number(limitText);
  }
  carried.push(["limit", String(limit)]);
  const ordering = q.get("ordering") || orderingField;
  if (ordering !== orderingField && ordering !== `-${orderingField}`) {
    return detail(400, `\`ordering\` must be \`${orderingField}\` or \`-${orderingField}\`.`);
  }
  if (q.get("ordering")) carried.push(["ordering", ordering]);
  const query: ListQuery = {
    limit,
    descending: ordering.startsWith("-"),
    offset: 0,
    removed: false,
    includeAppdata: q.get("include")?.split(",").includes("appdata") ?? false,
    carried,
  };
  for (const name of ["stored", "removed"] as const) {
    const raw = q.get(name);
    if (raw === null || raw === "") continue;
    const value = parseBool(raw);
    if (value === null || value === undefined) return detail(400, `\`${name}\` must be \`true\` or \`false\`.`);
    if (name === "stored") query.stored = value;
    else query.removed = value;
    carried.push([name, raw]);
  }
  if (query.includeAppdata) carried.push(["include", "appdata"]);
  for (const name of ["from", "to"] as const) {
    const raw = q.get(name);
    if (raw === null || raw === "") continue;
    const cursor = parseIsoCursor(raw);
    if (cursor === null) return detail(400, `\`${name}\` must be a date-time in ISO 8601 format, e.g. 2015-09-10T10:00:00Z.`);
    query[name] = cursor;
  }
  const offsetText = q.get("offset");
  if (offsetText !== null && offsetText !== "") {
    if (!/^\d+$/.test(offsetText)) return detail(400, "`offset` must be a non-negative integer.");
    query.offset = Number(offsetText);
  }
  return query;
}

export function isResult(x: unknown): x is ApiResult {
  return typeof x === "object" && x !== null && typeof (x as ApiResult).status === "number";
}

/**
 * Runs one page over a time-ordered sequence and builds Uploadcare's links:
 * `next` with `from` + `offset`, `previous` with `to` + `offset`, microsecond
 * "+00:00" timestamps, on the sandbox's own base URL. Inside a run of equal
 * times the position rides in `from`/`to` as digits after the microseconds
 * (see paginate.ts and the README), so `offset` in links is always 0.
 */
export function pageOf<S extends Sequence>(seq: S, query: ListQuery, base: string, path: string) {
  const sign = query.descending ? -1 : 1;
  // Descending lists hold negated times. Plain times: ascending `from` keeps
  // t > from (after the run), descending `from` keeps t <= from (before the
  // run, in listing order); `to` keeps what lies before the run in either.
  const cursor = (c: IsoCursor, plainTie: number): Cursor => ({ key: sign * c.us, tie: c.tie ?? plainTie });
  const start = query.from === undefined ? undefined : cursor(query.from, query.descending ? 0 : Infinity);
  const end = query.to === undefined ? undefined : cursor(query.to, 0);
  const page = paginate(seq, { start, end, offset: query.offset, limit: query.limit });
  const link = (extra: [string, string][]) => `${base}${path}?${new URLSearchParams([...query.carried, ...extra]).toString()}`;
  const stamp = (us: number) => isoMicros(us, "+00:00");
  // A plain time for the run edges (times are whole microseconds, so "after
  // the run at t" is "before the run at t + 1 µs"), a tie cursor inside a run.
  const fromText = (c: Cursor) =>
    c.tie === Infinity
      ? stamp(query.descending ? -c.key - 1 : c.key)
      : c.tie === 0
        ? stamp(query.descending ? -c.key : c.key - 1)
        : isoTieCursor(sign * c.key, c.tie);
  const toText = (c: Cursor) =>
    c.tie === 0 ? stamp(sign * c.key) : c.tie === Infinity ? stamp(sign * (c.key + 1)) : isoTieCursor(sign * c.key, c.tie);
  const next = page.next ? link([["from", fromText(page.next)], ["offset", "0"]]) : null;
  const previous = page.previous ? link([["to", toText(page.previous)], ["offset", "0"]]) : null;
  return { positions: page.positions, next, previous };
}

function fileIndex(ctx: SandboxContext, req: ApiRequest): number {
  const uuid = req.params["uuid"] ?? "";
  return isUuid(uuid) ? ctx.table.find(uuid) : -1;
}

function batch(ctx: SandboxContext, req: ApiRequest, action: "store" | "delete"): ApiResult {
  let body: unknown;
  try {
    body = jsonBody(req);
  } catch (e) {
    if (e instanceof BadJson) return detail(400, "Expected list of UUIDs");
    throw e;
  }
  if (!Array.isArray(body) || !body.every((u) => typeof u === "string")) return detail(400, "Expected list of UUIDs");
  if (body.length === 0) return detail(400, "List of UUIDs can not be empty");
  if (body.length > BATCH_UUIDS_MAX) return detail(400, `Maximum UUIDs per request is exceeded. The limit is ${BATCH_UUIDS_MAX}`);
  const result: Record<string, unknown>[] = [];
  const problems: Record<string, string> = {};
  const seen = new Set<number>();
  const initiator = apiInitiator(req.requestId);
  for (const uuid of body as string[]) {
    if (!isUuid(uuid)) {
      problems[uuid] = "Invalid";
      continue;
    }
    const i = ctx.table.find(uuid);
    // [inf] A removed file cannot be stored again: it is reported missing.
    if (i < 0 || (action === "store" && ctx.table.status[i] === REMOVED)) {
      problems[uuid] = "Missing in the project";
      continue;
    }
    if (seen.has(i)) continue;
    seen.add(i);
    if (action === "store") ctx.lifecycle.store(i, initiator);
    else ctx.lifecycle.remove(i, initiator);
    result.push(ctx.files.toJson(i, false));
  }
  return ok({ status: "ok", result, problems });
}

export function registerFileRoutes(router: Router, ctx: SandboxContext): void {
  router.add("/files/", {
    GET: (req) => {
      const query = parseListQuery(req.query, "datetime_uploaded");
      if (isResult(query)) return query;
      const wanted = query.removed
        ? (s: number) => s === REMOVED
        : query.stored === undefined
          ? (s: number) => s !== REMOVED
          : query.stored
            ? (s: number) => s === STORED
            : (s: number) => s === UNSTORED;
      const seq = new FileSequence(ctx.table, query.descending, wanted);
      const page = pageOf(seq, query, ctx.baseUrl, "/files/");
      const t = ctx.table.totals;
      // `total` counts the queried type and ignores from/to (recorded behaviour).
      // [inf] With removed=true the stored filter is ignored: removed files are neither.
      const total = query.removed ? t.removed : query.stored === undefined ? t.stored + t.unstored : query.stored ? t.stored : t.unstored;
      return ok({
        next: page.next,
        previous: page.previous,
        total,
        totals: { removed: t.removed, stored: t.stored, unstored: t.unstored },
        per_page: query.limit,
        results: page.positions.map((p) => ctx.files.toJson(seq.indexAt(p), query.includeAppdata)),
      });
    },
  });

  router.add("/files/storage/", {
    PUT: (req) => batch(ctx, req, "store"),
    DELETE: (req) => batch(ctx, req, "delete"),
  });

  router.add("/files/:uuid/storage/", {
    PUT: (req) => {
      const i = fileIndex(ctx, req);
      // [inf] Storing a removed file is refused like a missing one.
      if (i < 0 || ctx.table.status[i] === REMOVED) return notFound();
      ctx.lifecycle.store(i, apiInitiator(req.requestId));
      return ok(ctx.files.toJson(i, false));
    },
    DELETE: (req) => {
      const i = fileIndex(ctx, req);
      if (i < 0) return notFound();
      ctx.lifecycle.remove(i, apiInitiator(req.requestId));
      return ok(ctx.files.toJson(i, false));
    },
  });
}

/** Registered last: `/files/:uuid/` would otherwise shadow /files/storage/ and the copy endpoints. */
export function registerFileInfoRoute(router: Router, ctx: SandboxContext): void {
  router.add("/files/:uuid/", {
    GET: (req) => {
      const i = fileIndex(ctx, req);
      if (i < 0) return notFound();
      return ok(ctx.files.toJson(i, req.query.get("include")?.split(",").includes("appdata") ?? false));
    },
  });
}
