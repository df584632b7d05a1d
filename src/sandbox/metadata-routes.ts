import type { SandboxContext } from "./context.ts";
import { BadJson, Router, detail, jsonBody, noContent, notFound, ok, type ApiRequest, type ApiResult } from "./http.ts";
import { apiInitiator } from "./lifecycle.ts";
import { isUuid } from "./uuid.ts";

// File metadata: /files/{uuid}/metadata/ and /files/{uuid}/metadata/{key}/.

/** Latin letters, digits, `_ - . :`; 1–64 characters (spec `fileMetadataKey`). */
export const METADATA_KEY_RE = /^[A-Za-z0-9_\-.:]{1,64}$/;
export const METADATA_VALUE_MAX = 512;
export const METADATA_KEYS_MAX = 50;

function fileOf(ctx: SandboxContext, req: ApiRequest): number {
  const uuid = req.params["uuid"] ?? "";
  return isUuid(uuid) ? ctx.table.find(uuid) : -1;
}

/** Resolves the file and key of a per-key request, or the error answer. */
function target(ctx: SandboxContext, req: ApiRequest): { i: number; key: string } | ApiResult {
  const i = fileOf(ctx, req);
  if (i < 0) return notFound();
  const key = req.params["key"] ?? "";
  if (!METADATA_KEY_RE.test(key)) {
    return detail(400, "Invalid metadata key: use 1-64 Latin letters, digits and the characters `_`, `-`, `.`, `:`.");
  }
  return { i, key };
}

function isResult(x: { i: number; key: string } | ApiResult): x is ApiResult {
  return "status" in x;
}

export function registerMetadataRoutes(router: Router, ctx: SandboxContext): void {
  router.add("/files/:uuid/metadata/", {
    GET: (req) => {
      const i = fileOf(ctx, req);
      return i < 0 ? notFound() : ok(ctx.files.metadata(i));
    },
  });

  router.add("/files/:uuid/metadata/:key/", {
    GET: (req) => {
      const t = target(ctx, req);
      if (isResult(t)) return t;
      const metadata = ctx.files.metadata(t.i);
      const value = Object.hasOwn(metadata, t.key) ? metadata[t.key] : undefined;
      // [inf] An unknown key is a 404 (the spec lists only 400/401/406 here).
      return value === undefined ? notFound() : ok(value);
    },
    PUT: (req) => {
      const t = target(ctx, req);
      if (isResult(t)) return t;
      let value: unknown;
      try {
        value = jsonBody(req);
      } catch (e) {
        if (e instanceof BadJson) return detail(400, "Value must be a JSON string.");
        throw e;
      }
      // The body is a bare JSON string: "value", not {"value": ...}.
      if (typeof value !== "string") return detail(400, "Value must be a JSON string.");
      if (value.length < 1 || value.length > METADATA_VALUE_MAX) {
        return detail(400, `Value must be between 1 and ${METADATA_VALUE_MAX} characters long.`);
      }
      const current = ctx.files.metadata(t.i);
      if (!Object.hasOwn(current, t.key) && Object.keys(current).length >= METADATA_KEYS_MAX) {
        return detail(400, `A file can have at most ${METADATA_KEYS_MAX} metadata keys.`);
      }
      const created = ctx.lifecycle.setMetadataKey(t.i, t.key, value, apiInitiator(req.requestId));
      return ok(value, created ? 201 : 200);
    },
    DELETE: (req) => {
      const t = target(ctx, req);
      if (isResult(t)) return t;
      return ctx.lifecycle.deleteMetadataKey(t.i, t.key, apiInitiator(req.requestId)) ? noContent() : notFound();
    },
  });
}
