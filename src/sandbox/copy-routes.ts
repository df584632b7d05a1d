import type { SandboxContext } from "./context.ts";
import { REMOVED } from "./file-table.ts";
import { errorPage } from "./faults.ts";
import { BadJson, Router, detail, jsonBody, ok, parseBool, type ApiRequest, type ApiResult } from "./http.ts";
import { apiInitiator } from "./lifecycle.ts";
import { mediaOfMime } from "./catalog.ts";

// POST /files/local_copy/ and /files/remote_copy/.

/** The one custom storage the sandbox project has. */
export const REMOTE_STORAGE_NAME = "sandbox-archive";
/** The S3 bucket behind it (a storage name and its bucket differ in Uploadcare). */
export const REMOTE_BUCKET = "ucledger-sandbox-archive";

const MAX_COPY_BYTES = 5 * 1024 ** 3;
const MAX_TRANSFORMED_COPY_BYTES = 100 * 1024 ** 2;
const PATTERN_TOKENS = new Set(["default", "auto_filename", "effects", "filename", "uuid", "ext"]);
const BAD_SOURCE = "Bad `source` parameter. Use UUID or CDN URL.";

interface Source {
  index: number;
  uuid: string;
  /** CDN operations after the uuid, e.g. "-/resize/200x/", or "". */
  effects: string;
}

/** Accepts a bare uuid, "uuid/-/ops/", or a CDN URL on any host. */
function parseSource(ctx: SandboxContext, raw: string): Source | null {
  let path = raw.trim();
  if (/^https?:\/\//i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      return null;
    }
  }
  path = path.replace(/^\/+/, "");
  const m = /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?:\/(.*))?$/.exec(path);
  if (!m) return null;
  const uuid = (m[1] as string).toLowerCase();
  const index = ctx.table.find(uuid);
  if (index < 0) return null;
  const rest = m[2] ?? "";
  return { index, uuid, effects: rest.startsWith("-/") ? rest : "" };
}

function readBody(req: ApiRequest): Record<string, unknown> | ApiResult {
  let body: unknown;
  try {
    body = jsonBody(req);
  } catch (e) {
    if (e instanceof BadJson) return detail(400, "Expected JSON object.");
    throw e;
  }
  if (body === undefined) return {};
  if (body === null || typeof body !== "object" || Array.isArray(body)) return detail(400, "Expected JSON object.");
  return body as Record<string, unknown>;
}

function isResult(x: Record<string, unknown> | ApiResult): x is ApiResult {
  return typeof x["status"] === "number" && ("body" in x || "text" in x);
}

/** Checks shared by both copies; returns the source or the error answer. */
function checkSource(ctx: SandboxContext, body: Record<string, unknown>): Source | ApiResult {
  const raw = body["source"];
  if (raw === undefined || raw === null || raw === "") return detail(400, "`source` parameter is required.");
  const source = typeof raw === "string" ? parseSource(ctx, raw) : null;
  // [inf] Unknown and deleted sources get the same answer as malformed ones.
  if (!source || ctx.table.status[source.index] === REMOVED) return detail(400, BAD_SOURCE);
  if (ctx.faults.copyFails(source.uuid)) {
    const status = ctx.faults.config.copyFailStatus;
    return status === 400 ? detail(400, "File is not ready yet.") : { status, text: errorPage(status), contentType: "text/html" };
  }
  if (ctx.table.getOverrides(source.index)?.isReady === false) return detail(400, "File is not ready yet.");
  const size = ctx.table.size[source.index] as number;
  if (size > (source.effects ? MAX_TRANSFORMED_COPY_BYTES : MAX_COPY_BYTES)) return detail(400, "Copying of large files is not supported at the moment.");
  return source;
}

function isSource(x: Source | ApiResult): x is Source {
  return typeof (x as Source).index === "number";
}

function splitName(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? { stem: name.slice(0, dot), ext: name.slice(dot) } : { stem: name, ext: "" };
}

/** What `format` makes of an image: its MIME type and extension. */
const FORMATS: Record<string, { mime: string; ext: string }> = {
  webp: { mime: "image/webp", ext: "webp" },
  jpeg: { mime: "image/jpeg", ext: "jpg" },
  png: { mime: "image/png", ext: "png" },
  avif: { mime: "image/avif", ext: "avif" },
};

/** How much re-encoding shrinks an image, [low, high) of the source's bytes, by source type (PNG is lossless, so WebP wins most). */
const SHRINK: Record<string, Record<string, [number, number]>> = {
  webp: { "image/png": [0.22, 0.42], "image/jpeg": [0.68, 0.86], "image/gif": [0.3, 0.5], default: [0.6, 0.9] },
  avif: { "image/png": [0.15, 0.3], "image/jpeg": [0.5, 0.7], default: [0.5, 0.8] },
  jpeg: { "image/png": [0.35, 0.6], default: [0.9, 1.0] },
  png: { "image/jpeg": [1.6, 2.4], default: [1.0, 1.2] },
};

/** A number in [0, 1) fixed by the text (FNV-1a): the same copy of the same source always has the same size. */
function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h / 2 ** 32;
}

/**
 * The copy's MIME type, size and name after the CDN operations, plausibly
 * and deterministically: `format` changes the type and extension and scales
 * the bytes by a factor fixed by the source and the operations; `quality`
 * scales them a little more. Other operations keep the source's.
 */
export function transformed(source: { uuid: string; mime: string; size: number; filename: string }, effects: string): { mime: string; size: number; filename: string } {
  if (!effects || mediaOfMime(source.mime) !== "image") return source;
  let { mime, size, filename } = source;
  const format = /-\/format\/([a-z]+)\//.exec(effects)?.[1];
  const target = format ? FORMATS[format] : undefined;
  if (format && target && target.mime !== source.mime) {
    const [lo, hi] = SHRINK[format]?.[source.mime] ?? SHRINK[format]?.["default"] ?? [1, 1];
    size = size * (lo + (hi - lo) * unitHash(`${source.uuid}${effects}`));
    mime = target.mime;
    const { stem } = splitName(filename);
    filename = `${stem}.${target.ext}`;
  }
  const quality = /-\/quality\/([a-z]+)\//.exec(effects)?.[1];
  const QUALITY: Record<string, number> = { smart: 0.9, smart_retina: 0.95, lighter: 0.8, lightest: 0.65, normal: 0.92, better: 1.1, best: 1.25 };
  if (quality && QUALITY[quality]) size *= QUALITY[quality];
  return { mime, size: Math.max(1, Math.round(size)), filename };
}

export function registerCopyRoutes(router: Router, ctx: SandboxContext): void {
  router.add("/files/local_copy/", {
    POST: (req) => {
      const body = readBody(req);
      if (isResult(body)) return body;
      const source = checkSource(ctx, body);
      if (!isSource(source)) return source;
      const store = parseBool(body["store"]);
      if (store === null) return detail(400, "`store` parameter should be `true` or `false`.");
      const metadata = body["metadata"] ?? {};
      if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata) || !Object.values(metadata).every((v) => typeof v === "string")) {
        return detail(400, "`metadata` must be an object of strings.");
      }
      const src = source.index;
      const from = { uuid: source.uuid, mime: ctx.files.mime(src), size: ctx.table.size[src] as number, filename: ctx.files.filename(src) };
      const made = transformed(from, source.effects);
      const [copy] = ctx.lifecycle.upload(
        {
          stored: store ?? false,
          mimeType: made.mime,
          size: made.size,
          filename: made.filename,
          metadata: metadata as Record<string, string>,
          // A plain copy shares its source's content, so its details match; a re-encoded one gets its own, derived like any upload's.
          ...(made === from ? { contentInfo: ctx.files.contentInfo(src) } : {}),
        },
        1,
        apiInitiator(req.requestId, source.uuid),
      );
      const result = ctx.files.toJson(copy as number, false);
      // The immediate answer describes a copy still in progress (recorded shape).
      if (store) result["datetime_stored"] = result["datetime_uploaded"];
      Object.assign(result, { size: 0, mime_type: "application/octet-stream", is_image: null, content_info: null, variations: null });
      return ok({ type: "file", result }, 201);
    },
  });

  router.add("/files/remote_copy/", {
    POST: (req) => {
      const body = readBody(req);
      if (isResult(body)) return body;
      const target = body["target"];
      if (target === undefined || target === null || target === "") return detail(400, "`target` parameter is required.");
      const source = checkSource(ctx, body);
      if (!isSource(source)) return source;
      if (target !== REMOTE_STORAGE_NAME) return detail(400, "Project has no storage with provided name.");
      if (parseBool(body["make_public"]) === null) return detail(400, "`make_public` parameter should be `true` or `false`.");
      const pattern = body["pattern"] === undefined || body["pattern"] === null ? "${default}" : String(body["pattern"]);
      if (!/^[\w\-./~${}]*$/.test(pattern)) return detail(400, "Invalid pattern provided: Invalid character in a pattern.");
      for (const m of pattern.matchAll(/\$\{([^}]*)\}/g)) {
        if (!PATTERN_TOKENS.has(m[1] as string)) return detail(400, `Invalid pattern provided: \`${pattern}\``);
      }
      const { stem, ext } = splitName(ctx.files.filename(source.index));
      const effects = source.effects.replace(/\/+$/, "").replace(/\//g, "_");
      const values: Record<string, string> = { uuid: source.uuid, filename: stem, ext, effects, auto_filename: `${stem}${effects}${ext}` };
      values["default"] = `${values["uuid"]}/${values["auto_filename"]}`;
      const objectPath = pattern.replace(/\$\{(\w+)\}/g, (_m, token: string) => values[token] ?? "");
      const url = `s3://${REMOTE_BUCKET}/${objectPath}`;
      const existed = ctx.remoteObjects.has(url);
      ctx.remoteObjects.add(url);
      return ok({ type: "url", result: url }, existed ? 200 : 201);
    },
  });
}
