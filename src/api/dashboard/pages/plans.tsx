import type { PlanRecord } from "../../../db/queries/plans.ts";
import type { PolicyRecord } from "../../../db/queries/policies.ts";
import { PLAN_STATUSES } from "../../../db/schema/index.ts";
import { canOperate, params, type ListPage, type PageContext } from "../context.ts";
import { Bytes, Choice, Count, CsrfField, Empty, Notice, Pager, Status, Table, Time } from "../ui.tsx";

function Policies({ ctx, policies }: { ctx: PageContext; policies: PolicyRecord[] }) {
  if (policies.length === 0) {
    return (
      <Empty title="No policy yet.">
        A policy says which files to store, archive or delete. {canOperate(ctx.caller) ? <a href="/dashboard/policies/new">Create one from a template</a> : "An operator creates one from a template"} here, with{" "}
        <code>ucledger policy create</code> (see <code>ucledger policy templates</code>) or with POST /v1/policies; it then proposes plans for review here.
      </Empty>
    );
  }
  const operate = canOperate(ctx.caller);
  return (
    <Table caption="Policies" head={["Name", "Action", "What it matches", "Project", "Version", ...(operate ? [""] : [])]}>
      {policies.map((p) => (
        <tr>
          <td class="name">{p.name}</td>
          <td>
            <Status value={p.action} />
          </td>
          <td>{p.description ?? ""}</td>
          <td>{p.projectKey}</td>
          <td class="num">{p.version}</td>
          {operate ? (
            <td>
              <form method="post" action="/dashboard/plans">
                <CsrfField token={ctx.csrf} />
                <input type="hidden" name="policy" value={p.id} />
                <input type="hidden" name="project" value={p.projectKey} />
                <button type="submit">Propose a plan</button>
              </form>
            </td>
          ) : null}
        </tr>
      ))}
    </Table>
  );
}

export async function plansPage(ctx: PageContext, notice?: string) {
  const page = params(ctx.url);
  const [policies, plans] = await Promise.all([
    ctx.api.get<ListPage<PolicyRecord>>("/v1/policies", { project: page["project"] }),
    ctx.api.get<ListPage<PlanRecord>>("/v1/plans", { project: page["project"], status: page["status"], cursor: page["cursor"], limit: 50 }),
  ]);
  return (
    <>
      {notice ? <Notice kind="error">{notice}</Notice> : null}
      {page["created"] ? <Notice kind="ok">Policy “{page["created"]}” is created: propose a plan from it below to see what it would do.</Notice> : null}
      <h2>Policies</h2>
      {canOperate(ctx.caller) && policies.data.length > 0 ? (
        <p>
          <a href="/dashboard/policies/new">New policy from a template</a>
        </p>
      ) : null}
      <Policies ctx={ctx} policies={policies.data} />
      <h2>Plans</h2>
      <form class="filters" method="get" action="/dashboard/plans" aria-label="Filter plans">
        <Choice name="status" label="Status" values={PLAN_STATUSES} selected={page["status"]} />
        <button type="submit">Filter</button>
      </form>
      {plans.data.length === 0 ? (
        <Empty title={page["status"] ? `No ${page["status"]} plan.` : "No plan has been proposed yet."}>
          {canOperate(ctx.caller) ? "Propose one from a policy above, or with ucledger plan propose." : "An operator proposes plans from the policies above."}
        </Empty>
      ) : (
        <Table caption="Plans, newest first" head={["Plan", "Policy", "Action", "Status", "Files", "Bytes", "Left out", "Proposed", "Expires"]}>
          {plans.data.map((p) => (
            <tr>
              <td>
                <a href={`/dashboard/plans/${p.id}`}>{p.id.slice(0, 8)}</a>
              </td>
              <td class="name">{String(p.policy["name"] ?? "")}</td>
              <td>{p.action}</td>
              <td>
                <Status value={p.status} />
              </td>
              <td class="num">
                <Count value={p.fileCount} />
              </td>
              <td class="num">
                <Bytes value={p.totalBytes} />
              </td>
              <td class="num">
                <Count value={p.excludedCount} />
              </td>
              <td>
                <Time iso={p.proposedAt} /> <span class="muted">by</span> {p.proposedBy}
              </td>
              <td>
                <Time iso={p.expiresAt} />
              </td>
            </tr>
          ))}
        </Table>
      )}
      <Pager path="/dashboard/plans" query={page} nextCursor={plans.nextCursor} total={plans.total} totalExact={plans.totalExact} totalAtLeast={plans.totalAtLeast} shown={plans.data.length} />
    </>
  );
}
