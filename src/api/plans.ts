import { z } from "@hono/zod-openapi";
import {
  countPlanItems,
  countPlans,
  findPlan,
  listPlanItems,
  listPlans,
  PLAN_ITEM_ORDER,
  PLAN_ORDER,
  planProgress,
  planSavings,
  reasonCounts,
  type PlanItem,
  type PlanRecord,
} from "../db/queries/plans.ts";
import type { Queryable } from "../db/client.ts";
import { PLAN_ITEM_STATUSES, PLAN_STATUSES, POLICY_ACTIONS } from "../db/schema/index.ts";
import { startApply } from "../decisions/apply.ts";
import { inProcessPlanLock } from "../decisions/lock.ts";
import { safeText } from "../decisions/conditions.ts";
import { PlanOptionsInput } from "../decisions/options.ts";
import { previewPlan, proposePlan } from "../decisions/propose.ts";
import { approvalState, approvalsRequired, approvePlan, cancelPlan, expirePlans, type ApprovalSettings } from "../decisions/review.ts";
import { ConflictError } from "../errors.ts";
import type { ApiDeps, App } from "./app.ts";
import type { Caller } from "./auth.ts";
import type { Column } from "./export.ts";
import { resolveProjects, respondList } from "./listing.ts";
import { conflictError, exportContent, json, listPage, notFoundError, protectedErrors, protectedRoute, tooLargeError } from "./openapi.ts";
import { actorOf, oneProject } from "./policies.ts";
import { countParam, list, listParams, projectParam, text, uuid } from "./params.ts";

const Timestamp = z.string().openapi({ format: "date-time" });

const PlanSchema = z
  .object({
    projectKey: z.string(),
    id: z.string().openapi({ format: "uuid" }),
    policyId: z.string(),
    policyVersion: z.number().int(),
    policy: z.record(z.string(), z.unknown()).openapi({ description: "The policy as it was when the plan was proposed" }),
    action: z.enum(POLICY_ACTIONS),
    options: z.record(z.string(), z.unknown()).openapi({ description: "Protection, approvals, expiry and halting, as frozen" }),
    status: z.enum(PLAN_STATUSES),
    note: z.string().nullable(),
    fileCount: z.number().int().openapi({ description: "Files the plan acts on (excluded ones not counted)" }),
    totalBytes: z.number().int(),
    excludedCount: z.number().int(),
    requiredApprovals: z.number().int(),
    proposedBy: z.string(),
    proposedAt: Timestamp,
    expiresAt: Timestamp.openapi({ description: "Unapproved by then, the plan expires" }),
    approvedAt: Timestamp.nullable(),
    appliedBy: z.string().nullable(),
    applyStartedAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
    haltReason: z.string().nullable(),
    lastError: z.string().nullable().openapi({ description: "Why the latest apply run stopped early; apply again to resume" }),
    cancelledBy: z.string().nullable(),
    updatedAt: Timestamp,
  })
  .openapi("Plan");

const Count = z.object({ files: z.number().int(), bytes: z.number().int() });
const ReasonCount = z.object({ reason: z.string(), files: z.number().int() });

const ApprovalsSchema = z
  .object({
    required: z.number().int().openapi({ description: "Distinct approvers the plan needs, none of them its proposer (UCLEDGER_APPROVALS_REQUIRED, _LARGE above the size limits)" }),
    received: z.array(z.object({ actor: z.string(), at: Timestamp, reason: z.string() })).openapi({ description: "Approvals that count, oldest first: one per approver" }),
    stillNeeded: z.number().int().openapi({ description: "More distinct approvers needed; 0 once approved, or when the plan takes no more approvals" }),
    cannotApprove: z.array(z.string()).openapi({ description: "Who cannot give one of the approvals still needed: the proposer, then everyone who already approved" }),
  })
  .openapi("PlanApprovals");

const PlanDetailSchema = PlanSchema.extend({
  approvals: ApprovalsSchema,
  progress: z.object(Object.fromEntries(PLAN_ITEM_STATUSES.map((s) => [s, Count])) as Record<(typeof PLAN_ITEM_STATUSES)[number], typeof Count>),
  excluded: z.array(ReasonCount).openapi({ description: "Protected files the plan left out, by reason" }),
  skipped: z.array(ReasonCount).openapi({ description: "Files skipped at apply time because they changed, by reason" }),
  failed: z.array(ReasonCount).openapi({ description: "Files Uploadcare did not act on, by its reason" }),
  savings: z
    .object({ files: z.number().int(), bytesBefore: z.number().int(), bytesAfter: z.number().int(), bytesSaved: z.number().int() })
    .nullable()
    .openapi({ description: "Version plans that delete originals: the deleted originals' bytes, their copies' and the difference; null for other plans" }),
}).openapi("PlanDetail");

const ItemSchema = z
  .object({
    seq: z.number().int(),
    fileUuid: z.string(),
    status: z.enum(PLAN_ITEM_STATUSES),
    reason: z.string().nullable(),
    size: z.number().int(),
    state: z.string(),
    datetimeUploaded: Timestamp,
    mimeType: z.string(),
    originalFilename: z.string(),
    evidence: z.record(z.string(), z.unknown()).openapi({ description: "The values the policy's conditions looked at, at proposal" }),
    copyUrl: z.string().nullable(),
    copyUuid: z.string().nullable().openapi({ description: "Version plans: the copy made of the file" }),
    copySize: z.number().int().nullable().openapi({ description: "Version plans: the copy's bytes once confirmed" }),
    batch: z.number().int().nullable(),
    sentAt: Timestamp.nullable(),
    finishedAt: Timestamp.nullable(),
  })
  .openapi("PlanItem");

const ITEM_COLUMNS: Column<PlanItem>[] = [
  { name: "seq", value: (i) => i.seq },
  { name: "file_uuid", value: (i) => i.fileUuid },
  { name: "status", value: (i) => i.status },
  { name: "reason", value: (i) => i.reason },
  { name: "size", value: (i) => i.size },
  { name: "state", value: (i) => i.state },
  { name: "datetime_uploaded", value: (i) => i.datetimeUploaded },
  { name: "mime_type", value: (i) => i.mimeType },
  { name: "original_filename", value: (i) => i.originalFilename },
  { name: "evidence", value: (i) => i.evidence },
  { name: "copy_url", value: (i) => i.copyUrl },
  { name: "copy_uuid", value: (i) => i.copyUuid },
  { name: "copy_size", value: (i) => i.copySize },
  { name: "batch", value: (i) => i.batch },
  { name: "sent_at", value: (i) => i.sentAt },
  { name: "finished_at", value: (i) => i.finishedAt },
];

const PLAN_COLUMNS: Column<PlanRecord>[] = [
  { name: "project_key", value: (p) => p.projectKey },
  { name: "id", value: (p) => p.id },
  { name: "policy_id", value: (p) => p.policyId },
  { name: "policy_name", value: (p) => p.policy["name"] },
  { name: "action", value: (p) => p.action },
  { name: "status", value: (p) => p.status },
  { name: "file_count", value: (p) => p.fileCount },
  { name: "total_bytes", value: (p) => p.totalBytes },
  { name: "excluded_count", value: (p) => p.excludedCount },
  { name: "required_approvals", value: (p) => p.requiredApprovals },
  { name: "proposed_by", value: (p) => p.proposedBy },
  { name: "proposed_at", value: (p) => p.proposedAt },
  { name: "expires_at", value: (p) => p.expiresAt },
  { name: "finished_at", value: (p) => p.finishedAt },
];

const PlanParams = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });
const statusList = list(z.enum(PLAN_STATUSES, { message: `must be one of ${PLAN_STATUSES.join(", ")}` }), "Statuses, comma-separated or repeated");

const listRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/plans",
  tags: ["decisions"],
  summary: "Plans, newest first",
  request: { query: z.strictObject({ project: projectParam, status: statusList.optional(), policy: uuid.optional().openapi({ description: "Only plans of this policy" }), count: countParam, ...listParams }) },
  responses: {
    200: { description: "A page of plans, or the export", content: { "application/json": { schema: listPage(PlanSchema, "PlanPage") }, ...exportContent } },
    ...protectedErrors,
    ...notFoundError,
  },
});

const ProposeBody = z
  .strictObject({
    project: text(200, "Project; may be left out when only one is configured, or when the policy is named by id").optional(),
    policy: text(200, "The policy's id, or its name"),
    options: PlanOptionsInput.optional().openapi({
      description:
        "Only ever stricter than the deployment's settings: extraHoldKeys (more hold keys), a longer recentUploadHours, a lower haltFailureRate or haltMinAttempted, " +
        "lower two-approver limits; expiresInHours. holdKey and holdValue may only repeat the deployment's. A looser option is refused with 400 naming it.",
    }),
    note: safeText(2000, 0).optional(),
    dryRun: z.boolean().optional().openapi({ description: "true: answer 200 with what the plan would hold, and store nothing" }),
  })
  .openapi("PlanPropose");

const PreviewSchema = z
  .object({
    projectKey: z.string(),
    action: z.enum(POLICY_ACTIONS),
    policy: z.record(z.string(), z.unknown()),
    conditions: z.array(z.string()),
    options: z.record(z.string(), z.unknown()),
    files: z.number().int(),
    bytes: z.number().int(),
    excludedCount: z.number().int(),
    excluded: z.array(ReasonCount),
    requiredApprovals: z.number().int(),
    expiresAt: Timestamp,
    sample: z.array(z.record(z.string(), z.unknown())),
    excludedSample: z.array(z.record(z.string(), z.unknown())),
  })
  .openapi("PlanPreview");

const proposeRoute = protectedRoute("operator", {
  method: "post",
  path: "/v1/plans",
  tags: ["decisions"],
  summary: "Propose a plan from a policy: freezes the matching files and the evidence; changes no file",
  description: "Protected files (the hold key in metadata, recent uploads) are frozen as excluded items with their reason. With `dryRun: true`, nothing is stored.",
  request: { body: { content: { "application/json": { schema: ProposeBody } }, required: true } },
  responses: {
    201: json(PlanDetailSchema, "Proposed"),
    200: json(PreviewSchema, "Dry run: what the plan would hold"),
    ...protectedErrors,
    ...notFoundError,
    ...conflictError("The policy matches nothing to act on, or every live file without allowMatchAll"),
    ...tooLargeError,
  },
});

const getRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/plans/{id}",
  tags: ["decisions"],
  summary: "One plan: approvals, progress by item status, and the reasons for excluded, skipped and failed files",
  request: { params: PlanParams },
  responses: { 200: json(PlanDetailSchema, "The plan"), ...protectedErrors, ...notFoundError },
});

const ReasonBody = z.strictObject({ reason: z.string().trim().pipe(safeText(2000)) });

const approveRoute = protectedRoute("operator", {
  method: "post",
  path: "/v1/plans/{id}/approve",
  tags: ["decisions"],
  summary: "Approve a plan, with a reason",
  description:
    "Four eyes: the plan is approved once `approvals.required` distinct approvers other than its proposer approved it (one by default, two above the size limits). " +
    "The proposer's own approval gets 403; the same approver twice gets 409 and counts once. Expired plans take no approvals.",
  request: { params: PlanParams, body: { content: { "application/json": { schema: ReasonBody.openapi("PlanApproval") } }, required: true } },
  responses: { 200: json(PlanDetailSchema, "The plan after the approval"), ...protectedErrors, ...notFoundError, ...conflictError("Not proposed, expired, or already approved by this approver"), ...tooLargeError },
});

const applyRoute = protectedRoute("operator", {
  method: "post",
  path: "/v1/plans/{id}/apply",
  tags: ["decisions"],
  summary: "Apply an approved plan in the background",
  description:
    "Answers 202 at once; follow GET /v1/plans/{id} for progress. Batches of at most 100; each file is re-read from Uploadcare first and skipped if it changed. " +
    "Applying a plan left `applying` by an interrupted run resumes it without resending finished items.",
  request: { params: PlanParams },
  responses: {
    202: json(z.object({ plan: PlanSchema, follow: z.string() }).openapi("PlanApplyStarted"), "Started"),
    ...protectedErrors,
    ...notFoundError,
    ...conflictError("Not approved, already running, finished, or this server cannot reach Uploadcare"),
  },
});

const cancelRoute = protectedRoute("operator", {
  method: "post",
  path: "/v1/plans/{id}/cancel",
  tags: ["decisions"],
  summary: "Cancel a plan for good; an apply under way stops before its next batch",
  request: { params: PlanParams, body: { content: { "application/json": { schema: ReasonBody.openapi("PlanCancel") } }, required: true } },
  responses: { 200: json(PlanDetailSchema, "The cancelled plan"), ...protectedErrors, ...notFoundError, ...conflictError("Already finished"), ...tooLargeError },
});

const itemsRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/plans/{id}/items",
  tags: ["decisions"],
  summary: "A plan's files in execution order, with evidence and outcome; or export them",
  request: {
    params: PlanParams,
    query: z.strictObject({
      status: list(z.enum(PLAN_ITEM_STATUSES, { message: `must be one of ${PLAN_ITEM_STATUSES.join(", ")}` }), "Item statuses, comma-separated or repeated").optional(),
      count: countParam,
      ...listParams,
    }),
  },
  responses: {
    200: { description: "A page of items, or the export", content: { "application/json": { schema: listPage(ItemSchema, "PlanItemPage") }, ...exportContent } },
    ...protectedErrors,
    ...notFoundError,
  },
});

async function describePlan(db: Queryable, plan: PlanRecord, settings: ApprovalSettings | undefined) {
  const [approvals, progress, excluded, skipped, failed, savings] = await Promise.all([
    approvalState(db, plan, settings),
    planProgress(db, plan.projectKey, plan.id),
    reasonCounts(db, plan.projectKey, plan.id, "excluded"),
    reasonCounts(db, plan.projectKey, plan.id, "skipped"),
    reasonCounts(db, plan.projectKey, plan.id, "failed"),
    planSavings(db, plan),
  ]);
  return { ...plan, requiredApprovals: approvals.required, approvals, progress, excluded, skipped, failed, savings };
}

export function registerPlans(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  const now = deps.now ?? (() => new Date());
  const lock = deps.decisions?.lock ?? inProcessPlanLock();
  const approvals = deps.decisions?.approvals;
  const review = { db, now, approvals };
  const allProjects = () => resolveProjects(db, undefined);
  /** A plan as every route answers it, with this deployment's approval rule. */
  const planDetail = (q: Queryable, plan: PlanRecord) => describePlan(q, plan, approvals);

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid("query");
    const projects = await resolveProjects(db, q.project);
    await expirePlans(review, projects);
    const filter = { projects, statuses: q.status, policyId: q.policy };
    return respondList(
      c,
      deps,
      {
        scope: "plans",
        order: PLAN_ORDER,
        columns: PLAN_COLUMNS,
        page: async (after, limit) => {
          const listed = await listPlans(db, { filter, after, limit });
          // A proposed plan needs what the deployment's setting says now, as on the plan's own page.
          return { ...listed, items: listed.items.map((p) => ({ ...p, requiredApprovals: approvalsRequired(p, approvals) })) };
        },
        count: (mode) => countPlans(db, filter, mode),
      },
      q,
    );
  });

  app.openapi(proposeRoute, async (c) => {
    const body = c.req.valid("json");
    const projectKeys = body.project !== undefined ? [await oneProject(db, body.project)] : await allProjects();
    const input = { projectKeys, policy: body.policy, options: body.options, note: body.note, actor: actorOf(c.get("caller") as Caller) };
    const proposeDeps = { db, now, settings: deps.decisions?.settings, protection: deps.decisions?.protection, approvals: deps.decisions?.approvals };
    if (body.dryRun) {
      const preview = await previewPlan(proposeDeps, input);
      return c.json(PreviewSchema.parse({ ...preview, policy: preview.policy as unknown as Record<string, unknown>, options: preview.options as unknown as Record<string, unknown> }), 200);
    }
    const plan = await proposePlan(proposeDeps, input);
    return c.json(await planDetail(db, plan), 201);
  });

  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const found = await findPlan(db, id, await allProjects());
    await expirePlans(review, [found.projectKey]);
    return c.json(await planDetail(db, await findPlan(db, id, [found.projectKey])), 200);
  });

  app.openapi(approveRoute, async (c) => {
    const { id } = c.req.valid("param");
    const { reason } = c.req.valid("json");
    const plan = await approvePlan(review, { planId: id, projectKeys: await allProjects(), approver: actorOf(c.get("caller") as Caller), reason });
    return c.json(await planDetail(db, plan), 200);
  });

  app.openapi(applyRoute, async (c) => {
    const { id } = c.req.valid("param");
    const projectKeys = await allProjects();
    const plan = await findPlan(db, id, projectKeys);
    const services = deps.decisions;
    if (!services) throw new ConflictError("this server cannot apply plans: it has no Uploadcare clients configured");
    const started = await startApply(
      { db, client: services.clientFor(plan.projectKey), logger: deps.logger, now, lock, protection: services.protection },
      { planId: id, projectKeys: [plan.projectKey], actor: actorOf(c.get("caller") as Caller) },
    );
    // The run records its own failure on the plan (`lastError`); this only keeps it from going unhandled.
    started.run().catch((err: unknown) => deps.logger.error({ plan: id, err: { name: (err as Error).name, message: (err as Error).message } }, "plan apply failed"));
    const follow = `/v1/plans/${id}`;
    c.header("Location", follow);
    return c.json({ plan: started.plan, follow }, 202);
  });

  app.openapi(cancelRoute, async (c) => {
    const { id } = c.req.valid("param");
    const { reason } = c.req.valid("json");
    const plan = await cancelPlan(review, { planId: id, projectKeys: await allProjects(), actor: actorOf(c.get("caller") as Caller), reason });
    return c.json(await planDetail(db, plan), 200);
  });

  app.openapi(itemsRoute, async (c) => {
    const { id } = c.req.valid("param");
    const q = c.req.valid("query");
    const plan = await findPlan(db, id, await allProjects());
    const filter = { projectKey: plan.projectKey, planId: plan.id, statuses: q.status };
    return respondList(
      c,
      deps,
      {
        scope: `plan-items:${plan.id}`,
        order: PLAN_ITEM_ORDER,
        columns: ITEM_COLUMNS,
        page: (after, limit) => listPlanItems(db, { filter, after, limit }),
        count: (mode) => countPlanItems(db, filter, mode),
      },
      q,
    );
  });
}
