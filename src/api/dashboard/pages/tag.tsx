import type { Context } from "hono";
import type { FileSummary } from "../../../db/queries/files.ts";
import { filterConditions } from "../../../decisions/filter-conditions.ts";
import { AppError } from "../../../errors.ts";
import { ApiFailure } from "../api-client.ts";
import { canOperate, params, type ListPage, type PageContext } from "../context.ts";
import { CsrfField, Notice } from "../ui.tsx";
import { apiQuery } from "./files.tsx";

/**
 * Bulk tagging from the files list: `/dashboard/tag?<the files list's query>`
 * proposes a tag plan over the files of that filter. Nothing is written to
 * Uploadcare here: the filter becomes a policy's conditions, the policy a
 * proposed plan (frozen files, evidence, holds left out), and the plan goes
 * through approval (someone else) and apply on its own page, like every plan.
 *
 * Routes (registered in register.tsx):
 *   app.get("/dashboard/tag", page("files", "Tag files", tagPage));
 *   app.post("/dashboard/tag", page("files", "Tag files", tagSubmit));
 */

/** The files list's filter fields a tag plan can carry (sorting and paging do not select files). */
const FILTER_FIELDS = ["project", "state", "filename", "mime", "metadata", "appdata", "from", "to", "sizeMin", "sizeMax", "referenced", "unreferencedForDays", "missing"] as const;
const FILTER_PREFIX = "filter.";

function filterOf(source: Record<string, unknown>, prefix = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of FILTER_FIELDS) {
    const v = source[`${prefix}${key}`];
    if (typeof v === "string" && v.trim() !== "") out[key] = v.trim();
  }
  return out;
}

function describeFilter(filter: Record<string, string>): string {
  const parts = Object.entries(filter).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(", ") : "no filter";
}

export async function tagPage(ctx: PageContext, _c?: Context, error?: string, kept: Record<string, string> = {}) {
  const filter = filterOf(params(ctx.url));
  const files = await ctx.api.get<ListPage<FileSummary>>("/v1/files", { ...apiQuery(filter), limit: 5, count: "exact" });
  const back = `/dashboard/files?${new URLSearchParams(filter).toString()}`;
  return {
    title: "Tag files",
    body: (
      <div class="grid">
        {error ? <Notice kind="error">{error}</Notice> : null}
        <p class="card">
          Files of this filter: <strong>{describeFilter(filter)}</strong> — <span data-total>{files.total === null ? "an unknown number of" : files.total.toLocaleString("en-US")}</span> files in the ledger now.{" "}
          <a href={back}>Back to the list</a>
        </p>
        {canOperate(ctx.caller) ? (
          <form class="stack card" method="post" action="/dashboard/tag" aria-label="Propose a tag plan">
            <CsrfField token={ctx.csrf} />
            {Object.entries(filter).map(([k, v]) => (
              <input type="hidden" name={`${FILTER_PREFIX}${k}`} value={v} />
            ))}
            <label>
              Metadata key
              <input name="key" required maxlength={64} pattern="[A-Za-z0-9_.:\-]{1,64}" value={kept["key"] ?? ""} placeholder="campaign" />
            </label>
            <label>
              Value (1-512 characters; leave empty to remove the key)
              <input name="value" maxlength={512} value={kept["value"] ?? ""} placeholder="spring-2025" />
            </label>
            <label>
              Policy name
              <input name="name" maxlength={100} value={kept["name"] ?? ""} placeholder="tag campaign=spring-2025 (dashboard)" />
            </label>
            <p>
              This proposes a plan: held files are left out, files whose value is already right are left out, and nothing is written until someone else
              approves the plan and it is applied.
            </p>
            <button type="submit">Propose a tag plan</button>
          </form>
        ) : (
          <Notice kind="info">Proposing plans needs an operator or admin token.</Notice>
        )}
      </div>
    ),
  };
}

/** Creates the policy (the filter's conditions, the tag) and proposes its plan, then shows the plan. */
export async function tagSubmit(ctx: PageContext, c: Context) {
  const form = (await c.req.parseBody()) as Record<string, unknown>;
  const text = (k: string) => (typeof form[k] === "string" ? (form[k] as string).trim() : "");
  const filter = filterOf(form, FILTER_PREFIX);
  ctx.url.search = new URLSearchParams(filter).toString();
  const key = text("key");
  const value = text("value");
  const kept = { key, value, name: text("name") };
  try {
    const conditions = filterConditions(filter, ctx.now());
    if (conditions.length === 0) throw new ApiFailure(400, "BAD_REQUEST", "filter: narrow the files list first; a tag plan over every file is not proposed from here");
    const tag = value ? { set: { [key]: value } } : { remove: [key] };
    const stamp = ctx.now().toISOString().replace(/\.\d+Z$/, "Z");
    const name = kept.name || `tag ${key}${value ? `=${value}` : " removed"} ${stamp}`.slice(0, 100).replace(/[^A-Za-z0-9 _.:-]/g, "_");
    const project = filter["project"];
    const policy = await ctx.api.post<{ id: string }>("/v1/policies", { name, action: "tag", conditions, tag, description: `from the files list: ${describeFilter(filter)}`, project });
    const plan = await ctx.api.post<{ id: string }>("/v1/plans", { policy: policy.id, note: `tag from the files list: ${describeFilter(filter)}` });
    return c.redirect(`/dashboard/plans/${plan.id}?done=proposed`, 303);
  } catch (err) {
    if (err instanceof ApiFailure && err.status !== 401) return tagPage(ctx, c, err.message, kept);
    if (err instanceof AppError && err.code !== "INTERNAL_SERVER_ERROR") return tagPage(ctx, c, err.message, kept);
    throw err;
  }
}
