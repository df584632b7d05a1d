import type { Context } from "hono";
import { ApiFailure } from "../api-client.ts";
import { canOperate, type PageContext } from "../context.ts";
import { CsrfField } from "../ui.tsx";

type OneFileAction = "store" | "delete";

/**
 * Store or delete one file from its page: a one-file policy (`uuid` condition)
 * and its plan, proposed through the API like any other, so the same
 * protection, approvals (never by the proposer) and apply rules hold.
 */
export function FileActions({ ctx, projectKey, uuid, state }: { ctx: PageContext; projectKey: string; uuid: string; state: string }) {
  if (!canOperate(ctx.caller) || state === "removed") return null;
  const actions: OneFileAction[] = state === "unstored" ? ["store", "delete"] : ["delete"];
  return (
    <form class="actions" method="post" action={`/dashboard/files/${encodeURIComponent(projectKey)}/${uuid}/plan`}>
      <CsrfField token={ctx.csrf} />
      {actions.map((action) => (
        <button type="submit" name="action" value={action} class={action === "delete" ? "danger" : undefined}>
          Propose to {action} this file…
        </button>
      ))}
      <span class="muted"> a one-file plan: it waits for approval like any other.</span>
    </form>
  );
}

/** The form's answer: the plan's page, or the API's refusal in its own words. */
export async function proposeOneFile(ctx: PageContext, c: Context, projectKey: string, uuid: string): Promise<Response | string> {
  const form = await c.req.parseBody();
  const action = form["action"];
  if (action !== "store" && action !== "delete") throw new ApiFailure(400, "BAD_REQUEST", "action: must be store or delete");
  const stamp = ctx.now().toISOString().replace(/\.\d+Z$/, "Z");
  try {
    const policy = await ctx.api.post<{ id: string }>("/v1/policies", {
      name: `${action} ${uuid.slice(0, 8)} ${stamp}`,
      action,
      project: projectKey,
      description: `from the file's page: ${action} ${uuid}`,
      conditions: [{ kind: "uuid", in: [uuid] }],
    });
    const plan = await ctx.api.post<{ id: string }>("/v1/plans", { policy: policy.id, project: projectKey, note: `${action} one file from its page` });
    return c.redirect(`/dashboard/plans/${plan.id}?done=proposed`, 303);
  } catch (err) {
    if (err instanceof ApiFailure && err.status !== 401) return err.message;
    throw err;
  }
}
