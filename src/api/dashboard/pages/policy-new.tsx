import { randomUUID } from "node:crypto";
import type { Db } from "../../../db/client.ts";
import { formatCount } from "../../../reports/weekly/format.ts";
import { createPolicy } from "../../../decisions/manage-policies.ts";
import { previewPlan, type PlanPreview } from "../../../decisions/propose.ts";
import { POLICY_TEMPLATES, type PolicyTemplate } from "../../../decisions/templates.ts";
import { AppError } from "../../../errors.ts";
import { formatBytes } from "../../../units.ts";
import { actorOf } from "../../policies.ts";
import { inUsersWords } from "../../errors.ts";
import { canOperate, projectList, type PageContext } from "../context.ts";
import { CsrfField, Notice, Table } from "../ui.tsx";

/**
 * A policy from a template, in the browser: pick a template, fill in its
 * parameters, preview what a plan would hold, then save. The preview runs the
 * decisions code itself (createPolicy, then previewPlan, the API's dry run)
 * inside a transaction that is rolled back, so it counts exactly what a plan
 * proposed from the saved policy would, protection and the match-all check
 * included, and leaves nothing behind. Saving goes through POST /v1/policies
 * like any other client.
 */

export interface PolicyForm {
  template: string;
  name: string;
  project: string;
  params: Record<string, string>;
}

/** The form's fields as the API's body: empty parameters are left out, as the CLI leaves out flags not given. */
export function policyBody(form: PolicyForm): { project: string | undefined; name: string; template: string; params: Record<string, string> } {
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(form.params)) if (value.trim() !== "") params[key] = value.trim();
  return { project: form.project || undefined, name: form.name.trim(), template: form.template, params };
}

export function readPolicyForm(body: Record<string, unknown>): PolicyForm {
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  const template = text(body["template"]);
  const params: Record<string, string> = {};
  for (const key of Object.keys(POLICY_TEMPLATES.find((t) => t.id === template)?.params ?? {})) params[key] = text(body[`param.${key}`]);
  return { template, name: text(body["name"]), project: text(body["project"]), params };
}

class Rollback extends Error {}

/** What a plan from this (unsaved) policy would hold, computed and then rolled back. */
export async function previewTemplatePolicy(ctx: PageContext, projectKey: string, form: PolicyForm): Promise<PlanPreview> {
  const body = policyBody(form);
  let preview: PlanPreview | undefined;
  try {
    await ctx.db.transaction(async (tx) => {
      const db = tx as unknown as Db;
      const now = ctx.now;
      const actor = actorOf(ctx.caller);
      const policy = await createPolicy({ db, now }, { projectKey, body: { name: body.name || `preview ${randomUUID()}`, template: body.template, params: body.params }, actor });
      preview = await previewPlan({ db, now, ...ctx.decisions }, { projectKeys: [projectKey], policy: policy.id, actor });
      throw new Rollback();
    });
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
  }
  return preview!;
}

function ParamFields({ template, form }: { template: PolicyTemplate; form: PolicyForm | undefined }) {
  const entries = Object.entries(template.params);
  if (entries.length === 0) return <p class="muted">This template takes no parameters.</p>;
  return (
    <>
      {entries.map(([key, meaning]) => (
        <label>
          {key} <span class="muted">— {meaning}</span>
          <input name={`param.${key}`} value={form?.params[key] ?? ""} size={30} />
        </label>
      ))}
    </>
  );
}

function Preview({ preview }: { preview: PlanPreview }) {
  return (
    <section class="card" aria-label="Preview" data-preview-files={preview.files}>
      <h2>Preview</h2>
      <p>
        A plan proposed now would <strong>{preview.action}</strong> <strong data-preview-count>{formatCount(preview.files)}</strong> files (
        {formatBytes(preview.bytes)}); {formatCount(preview.excludedCount)} more match but are protected
        {preview.excluded.length ? ` (${preview.excluded.map((e) => `${e.reason}: ${formatCount(e.files)}`).join("; ")})` : ""}. It would need{" "}
        {preview.requiredApprovals} approval{preview.requiredApprovals === 1 ? "" : "s"}.
      </p>
      <p>It matches files where:</p>
      <ul>
        {preview.conditions.map((c) => (
          <li>{c}</li>
        ))}
      </ul>
      {preview.sample.length ? (
        <Table caption="First files the plan would act on" head={["File", "Size", "State", "MIME type"]}>
          {preview.sample.map((s) => (
            <tr>
              <td class="name">{s.originalFilename || s.fileUuid}</td>
              <td class="num">{formatBytes(s.size)}</td>
              <td>{s.state}</td>
              <td>{s.mimeType}</td>
            </tr>
          ))}
        </Table>
      ) : null}
      <p class="muted">Nothing is saved yet. Creating the policy changes no file either: a plan is proposed from it, reviewed and approved first.</p>
    </section>
  );
}

export async function policyNewPage(ctx: PageContext, state: { form?: PolicyForm; preview?: PlanPreview; error?: string } = {}) {
  if (!canOperate(ctx.caller)) {
    return <Notice kind="error">Creating a policy needs an operator or admin token; you are signed in as a viewer.</Notice>;
  }
  const projects = await projectList(ctx);
  const chosen = state.form?.template ?? ctx.url.searchParams.get("template") ?? "";
  const template = POLICY_TEMPLATES.find((t) => t.id === chosen);
  return {
    title: "New policy from a template",
    body: (
      <>
        <p>
          <a href="/dashboard/plans">← Plans and policies</a>
        </p>
        {state.error ? <Notice kind="error">{state.error}</Notice> : null}
        <form class="filters" method="get" action="/dashboard/policies/new" aria-label="Choose a template">
          <label>
            Template
            <select name="template">
              <option value="">choose one…</option>
              {POLICY_TEMPLATES.map((t) => (
                <option value={t.id} selected={t.id === chosen}>
                  {t.action}: {t.summary}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="secondary">
            Choose
          </button>
        </form>
        {template ? (
          <form class="stack card" method="post" action="/dashboard/policies/new" aria-label="Policy parameters">
            <CsrfField token={ctx.csrf} />
            <input type="hidden" name="template" value={template.id} />
            <p>
              <strong>{template.summary}</strong> <span class="muted">({template.action})</span>
            </p>
            {projects.length > 1 ? (
              <label>
                Project
                <select name="project" required>
                  {projects.map((p) => (
                    <option value={p.projectKey} selected={p.projectKey === state.form?.project}>
                      {p.name}
                    </option>
                  ))}
                </select>
              </label>
            ) : (
              <input type="hidden" name="project" value={projects[0]?.projectKey ?? ""} />
            )}
            <label>
              Name <span class="muted">— unique in the project</span>
              <input name="name" value={state.form?.name ?? ""} required maxlength={200} size={30} />
            </label>
            <ParamFields template={template} form={state.form} />
            <div class="actions">
              <button type="submit" name="intent" value="preview" class="secondary">
                Preview
              </button>
              <button type="submit" name="intent" value="create">
                Create the policy
              </button>
            </div>
          </form>
        ) : (
          <p class="muted">Choose a template to see its parameters.</p>
        )}
        {state.preview ? <Preview preview={state.preview} /> : null}
      </>
    ),
  };
}

/** A refusal from the decisions code, in the API's words (a 400's message, a 409's). */
export function refusalText(err: unknown): string | null {
  if (err instanceof AppError && err.code !== "INTERNAL_SERVER_ERROR") return inUsersWords(err.message);
  return null;
}
