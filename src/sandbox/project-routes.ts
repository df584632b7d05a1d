import type { SandboxContext } from "./context.ts";
import { BadJson, Router, jsonBody, notFound, ok, type ApiRequest, type ApiResult } from "./http.ts";
import { isUuid } from "./uuid.ts";

// GET /project/ and the file tags endpoints (tags are newer than the spec
// mirror; rules from reference section 10).

const TAGS_MAX = 50;
const TAG_LENGTH_MAX = 100;
const TAG_RE = /^[a-z0-9\-_.]+$/;

export function registerProjectRoute(router: Router, ctx: SandboxContext): void {
  router.add("/project/", {
    GET: () =>
      ok({
        collaborators: [{ name: "Sandbox Owner", email: "owner@sandbox.invalid" }],
        name: ctx.keys.projectName,
        pub_key: ctx.keys.publicKey,
        autostore_enabled: true,
      }),
  });
}

/** Lower-cases, trims and de-duplicates; returns the field error when a tag is invalid. */
function normalizeTags(input: unknown, field: string): string[] | ApiResult {
  if (!Array.isArray(input) || !input.every((t) => typeof t === "string")) return { status: 400, body: { [field]: ["Expected a list of strings."] } };
  const tags = [...new Set(input.map((t: string) => t.trim().toLowerCase()))];
  for (const tag of tags) {
    if (tag.length === 0 || tag.length > TAG_LENGTH_MAX || !TAG_RE.test(tag)) {
      return { status: 400, body: { [field]: [`Invalid tag "${tag}": use 1-${TAG_LENGTH_MAX} characters from A-Z, a-z, 0-9, "-", "_", ".".`] } };
    }
  }
  return tags;
}

function isResult(x: string[] | ApiResult): x is ApiResult {
  return !Array.isArray(x);
}

export function registerTagRoutes(router: Router, ctx: SandboxContext): void {
  const fileOf = (req: ApiRequest) => (isUuid(req.params["uuid"] ?? "") ? ctx.table.find(req.params["uuid"] as string) : -1);
  const body = (req: ApiRequest): Record<string, unknown> | null => {
    try {
      const b = jsonBody(req);
      return b && typeof b === "object" && !Array.isArray(b) ? (b as Record<string, unknown>) : null;
    } catch (e) {
      if (e instanceof BadJson) return null;
      throw e;
    }
  };
  const save = (i: number, before: string[], after: string[]) => {
    if (after.length > TAGS_MAX) return { status: 400, body: { tags: [`A file can have at most ${TAGS_MAX} tags.`] } };
    ctx.table.overridesFor(i).tags = after;
    ctx.table.touch();
    return ok({ tags: after, added: after.filter((t) => !before.includes(t)), deleted: before.filter((t) => !after.includes(t)) });
  };

  router.add("/files/:uuid/tags/", {
    GET: (req) => {
      const i = fileOf(req);
      return i < 0 ? notFound() : ok({ tags: ctx.table.getOverrides(i)?.tags ?? [] });
    },
    PUT: (req) => {
      const i = fileOf(req);
      if (i < 0) return notFound();
      const b = body(req);
      if (!b) return { status: 400, body: { non_field_errors: ["Expected JSON object."] } };
      const tags = normalizeTags(b["tags"], "tags");
      if (isResult(tags)) return tags;
      return save(i, ctx.table.getOverrides(i)?.tags ?? [], tags);
    },
    PATCH: (req) => {
      const i = fileOf(req);
      if (i < 0) return notFound();
      const b = body(req);
      if (!b) return { status: 400, body: { non_field_errors: ["Expected JSON object."] } };
      const add = normalizeTags(b["add"] ?? [], "add");
      if (isResult(add)) return add;
      const del = normalizeTags(b["delete"] ?? [], "delete");
      if (isResult(del)) return del;
      const before = ctx.table.getOverrides(i)?.tags ?? [];
      // Delete is applied first, so a tag can be removed and re-added in one call.
      const after = before.filter((t) => !del.includes(t));
      for (const t of add) if (!after.includes(t)) after.push(t);
      return save(i, before, after);
    },
  });
}
