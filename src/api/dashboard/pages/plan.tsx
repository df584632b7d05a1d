import type { PlanItem, PlanProgress, PlanRecord } from "../../../db/queries/plans.ts";
import { z } from "zod";
import { PLAN_ITEM_STATUSES } from "../../../db/schema/index.ts";
import { Condition, describeConditions } from "../../../decisions/conditions.ts";
import { actorOf } from "../../policies.ts";
import { canOperate, params, type ListPage, type PageContext } from "../context.ts";
import { Bytes, Choice, Count, CsrfField, Empty, Notice, Pager, Status, Table, Time, fileHref } from "../ui.tsx";

type ReasonCount = { reason: string; files: number };
export interface PlanDetail extends PlanRecord {
  approvals: { required: number; received: { actor: string; at: string; reason: string }[]; stillNeeded: number; cannotApprove: string[] };
  progress: PlanProgress;
  excluded: ReasonCount[];
  skipped: ReasonCount[];
  failed: ReasonCount[];
}

/** The frozen policy's conditions in words: as frozen (`describe`), else described again from the conditions. */
export function conditionWords(policy: Record<string, unknown>): string[] {
  const described = policy["describe"];
  if (Array.isArray(described) && described.every((d) => typeof d === "string")) return described as string[];
  const parsed = z.array(Condition).safeParse(policy["conditions"] ?? []);
  return parsed.success ? describeConditions(parsed.data) : [JSON.stringify(policy["conditions"] ?? [])];
}

function ConditionList({ policy }: { policy: Record<string, unknown> }) {
  const words = conditionWords(policy);
  if (words.length === 0) return <span class="muted">every file (no condition)</span>;
  return (
    <ul class="conditions">
      {words.map((w) => (
        <li>{w}</li>
      ))}
    </ul>
  );
}

const VERB = { store: "store", delete: "delete", archive: "archive (copy, then delete)" } as Record<string, string>;

function Reasons({ title, counts }: { title: string; counts: ReasonCount[] }) {
  if (counts.length === 0) return null;
  return (
    <>
      <h2>{title}</h2>
      <Table caption={title} head={["Reason", "Files"]}>
        {counts.map((r) => (
          <tr>
            <td>{r.reason}</td>
            <td class="num">
              <Count value={r.files} />
            </td>
          </tr>
        ))}
      </Table>
    </>
  );
}

function Progress({ plan }: { plan: PlanDetail }) {
  const p = plan.progress;
  const handled = p.done.files + p.skipped.files + p.failed.files;
  return (
    <div class="card" data-follow-plan={plan.status === "applying" ? plan.id : undefined}>
      <label>
        Progress
        <progress max={Math.max(plan.fileCount, 1)} value={handled}>
          {handled} of {plan.fileCount}
        </progress>
      </label>
      <p data-progress-text aria-live="polite">
        {handled} of {plan.fileCount} files handled: {p.done.files} done, {p.skipped.files} skipped, {p.failed.files} failed
      </p>
    </div>
  );
}

/** The buttons this caller may press on this plan, and nothing else. */
function Actions({ ctx, plan }: { ctx: PageContext; plan: PlanDetail }) {
  if (!canOperate(ctx.caller)) {
    return <p class="muted">You are signed in as a viewer: approving and applying plans needs an operator or admin token.</p>;
  }
  const me = actorOf(ctx.caller);
  // Four eyes: the proposer and those who already approved get no form; the API refuses them too.
  const proposedByMe = plan.proposedBy === me;
  const approvedByMe = plan.approvals.received.some((a) => a.actor === me);
  const canApprove = plan.status === "proposed" && !proposedByMe && !approvedByMe;
  const waiting = plan.status === "proposed" && plan.approvals.stillNeeded > 0;
  const canApply = plan.status === "approved" || (plan.status === "applying" && plan.lastError !== null);
  const canCancel = plan.status === "proposed" || plan.status === "approved";
  return (
    <div class="grid">
      {waiting && proposedByMe ? (
        <p class="card">You proposed this plan, so you cannot approve it: {approvalCount(plan.approvals.stillNeeded)} from someone else.</p>
      ) : null}
      {waiting && approvedByMe ? <p class="card">You approved this plan: {approvalCount(plan.approvals.stillNeeded)} from someone else.</p> : null}
      {canApprove ? (
        <form class="stack card" method="post" action={`/dashboard/plans/${plan.id}/approve`}>
          <CsrfField token={ctx.csrf} />
          <label>
            Why approve? (kept in the audit trail)
            <textarea name="reason" required maxlength={2000} rows={2}></textarea>
          </label>
          <button type="submit">Approve</button>
        </form>
      ) : null}
      {canApply ? (
        <form class="stack card" method="post" action={`/dashboard/plans/${plan.id}/apply`}>
          <CsrfField token={ctx.csrf} />
          <label>
            <span>
              <input type="checkbox" name="confirm" value="yes" required /> {VERB[plan.action] ?? plan.action} {plan.fileCount.toLocaleString("en-US")} files now
            </span>
          </label>
          <button type="submit" class={plan.action === "store" ? undefined : "danger"}>
            {plan.status === "applying" ? "Resume applying" : "Apply"}
          </button>
        </form>
      ) : null}
      {canCancel ? (
        <form class="stack card" method="post" action={`/dashboard/plans/${plan.id}/cancel`}>
          <CsrfField token={ctx.csrf} />
          <label>
            Why cancel?
            <textarea name="reason" required maxlength={2000} rows={2}></textarea>
          </label>
          <button type="submit" class="secondary">
            Cancel the plan
          </button>
        </form>
      ) : null}
    </div>
  );
}

const approvalCount = (n: number) => `${n} more approval${n === 1 ? " is" : "s are"} needed`;

/** Who approved, how many more are needed, and who cannot give them. */
function Approvals({ plan }: { plan: PlanDetail }) {
  const a = plan.approvals;
  const [proposer, ...approvers] = a.cannotApprove;
  return (
    <>
      {a.received.length} of {a.required} received
      {a.stillNeeded > 0 ? (
        <p data-still-needed={a.stillNeeded}>
          {approvalCount(a.stillNeeded)}, from anyone but {proposer} (who proposed it: a proposer cannot approve)
          {approvers.length ? ` and ${approvers.join(", ")} (who approved already)` : ""}.
        </p>
      ) : null}
      {a.received.length ? (
        <ul>
          {a.received.map((r) => (
            <li>
              {r.actor}, <Time iso={r.at} />: “{r.reason}”
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}

function Items({ items, projectKey }: { items: PlanItem[]; projectKey: string }) {
  return (
    <Table caption="Plan items" head={["#", "File", "Status", "Reason", "Size", "State at proposal", "Evidence", "Batch"]}>
      {items.map((i) => (
        <tr class={i.status === "failed" ? "error" : undefined}>
          <td class="num">{i.seq}</td>
          <td class="name">
            <a href={fileHref(projectKey, i.fileUuid)}>{i.originalFilename || i.fileUuid}</a>
          </td>
          <td>
            <Status value={i.status} />
          </td>
          <td>{i.reason ?? ""}</td>
          <td class="num">
            <Bytes value={i.size} />
          </td>
          <td>{i.state}</td>
          <td>
            <code>{JSON.stringify(i.evidence)}</code>
          </td>
          <td class="num">{i.batch ?? ""}</td>
        </tr>
      ))}
    </Table>
  );
}

/** What the page says after a form was sent and redirected here (`?done=`). */
const DONE: Record<string, string> = {
  proposed: "The plan is proposed: review what it holds, then approve it.",
  approve: "Your approval is recorded.",
  apply: "Applying: the progress below follows it.",
  cancel: "Cancelled.",
};

export async function planPage(ctx: PageContext, id: string, outcome?: { error?: string }) {
  const { done, ...page } = params(ctx.url);
  const [plan, items] = await Promise.all([
    ctx.api.get<PlanDetail>(`/v1/plans/${id}`),
    ctx.api.get<ListPage<PlanItem>>(`/v1/plans/${id}/items`, { status: page["status"], cursor: page["cursor"], limit: 100 }),
  ]);
  return {
    title: `Plan ${id.slice(0, 8)}: ${VERB[plan.action] ?? plan.action} ${plan.fileCount.toLocaleString("en-US")} files`,
    body: (
      <>
        {outcome?.error ? <Notice kind="error">{outcome.error}</Notice> : null}
        {done && DONE[done] ? <Notice kind="ok">{DONE[done]}</Notice> : null}
        <p>
          <a href="/dashboard/plans">← All plans</a>
        </p>
        <dl class="fields">
          <dt>Status</dt>
          <dd>
            <Status value={plan.status} />
            {plan.haltReason ? ` — halted: ${plan.haltReason}` : ""}
          </dd>
          <dt>Policy</dt>
          <dd>
            {String(plan.policy["name"] ?? "")} <span class="muted">(version {plan.policyVersion})</span>
          </dd>
          <dt>Matches files where</dt>
          <dd>
            <ConditionList policy={plan.policy} />
          </dd>
          <dt>Files, bytes</dt>
          <dd>
            <Count value={plan.fileCount} /> files, <Bytes value={plan.totalBytes} />
          </dd>
          <dt>Left out by protection</dt>
          <dd>
            <Count value={plan.excludedCount} /> files
          </dd>
          <dt>Proposed</dt>
          <dd>
            <Time iso={plan.proposedAt} /> by {plan.proposedBy}
            {plan.note ? ` — ${plan.note}` : ""}
          </dd>
          {plan.status === "proposed" ? (
            <>
              <dt>Expires</dt>
              <dd>
                <Time iso={plan.expiresAt} /> unless approved
              </dd>
            </>
          ) : null}
          <dt>Approvals</dt>
          <dd>
            <Approvals plan={plan} />
          </dd>
          {plan.lastError ? (
            <>
              <dt>Last error</dt>
              <dd>{plan.lastError}</dd>
            </>
          ) : null}
        </dl>
        {["applying", "applied", "halted"].includes(plan.status) ? <Progress plan={plan} /> : null}
        <Actions ctx={ctx} plan={plan} />
        <Reasons title="Left out by protection" counts={plan.excluded} />
        <Reasons title="Skipped at apply time (the file had changed)" counts={plan.skipped} />
        <Reasons title="Failed (Uploadcare's reasons)" counts={plan.failed} />
        <h2>Files</h2>
        <form class="filters" method="get" action={`/dashboard/plans/${id}`} aria-label="Filter items">
          <Choice name="status" label="Item status" values={PLAN_ITEM_STATUSES} selected={page["status"]} />
          <button type="submit">Filter</button>
          <a href={`/v1/plans/${id}/items?format=csv`}>Download CSV</a>
        </form>
        {items.data.length === 0 ? <Empty title="No item with this status." /> : <Items items={items.data} projectKey={plan.projectKey} />}
        <Pager path={`/dashboard/plans/${id}`} query={page} nextCursor={items.nextCursor} total={items.total} totalExact={items.totalExact} totalAtLeast={items.totalAtLeast} shown={items.data.length} />
      </>
    ),
  };
}
