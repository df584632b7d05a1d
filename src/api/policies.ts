import { z } from "@hono/zod-openapi";
import type { Queryable } from "../db/client.ts";
import { findPolicy, listPolicies, type PolicyRecord } from "../db/queries/policies.ts";
import { POLICY_ACTIONS } from "../db/schema/index.ts";
import { createPolicy, editPolicy, removePolicy } from "../decisions/manage-policies.ts";
import { policyCreateSchema, PolicyPatch } from "../decisions/policy.ts";
import { POLICY_TEMPLATES } from "../decisions/templates.ts";
import { ValidationError } from "../errors.ts";
import type { ApiDeps, App } from "./app.ts";
import type { Caller } from "./auth.ts";
import { resolveProjects } from "./listing.ts";
import { conflictError, json, notFoundError, protectedErrors, protectedRoute, tooLargeError } from "./openapi.ts";
import { projectParam, text, uuid } from "./params.ts";

const Timestamp = z.string().openapi({ format: "date-time" });

export const PolicySchema = z
  .object({
    projectKey: z.string(),
    id: z.string().openapi({ format: "uuid" }),
    name: z.string(),
    description: z.string().nullable(),
    action: z.enum(POLICY_ACTIONS),
    conditions: z.array(z.record(z.string(), z.unknown())).openapi({ description: "All must hold; see GET /v1/policies/templates and docs/decisions.md" }),
    allowMatchAll: z.boolean(),
    archive: z.record(z.string(), z.unknown()).nullable().openapi({ description: "Archive policies: { target, pattern, makePublic }" }),
    tag: z.record(z.string(), z.unknown()).nullable().openapi({ description: "Tag policies: { set: {key: value}, remove: [key] }" }),
    versionSpec: z.record(z.string(), z.unknown()).nullable().openapi({ description: "Version policies: { operations: \"-/format/webp/\", deleteOriginal }" }),
    version: z.number().int().openapi({ description: "Bumped by every edit; plans record the version they froze" }),
    createdAt: Timestamp,
    createdBy: z.string(),
    updatedAt: Timestamp,
    updatedBy: z.string(),
  })
  .openapi("Policy");

const TemplateSchema = z
  .object({ id: z.string(), action: z.enum(POLICY_ACTIONS), summary: z.string(), params: z.record(z.string(), z.string()) })
  .openapi("PolicyTemplate");

const PolicyParams = z.object({ id: uuid.openapi({ param: { name: "id", in: "path" } }) });

const listRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/policies",
  tags: ["decisions"],
  summary: "Live policies, by project and name",
  request: { query: z.strictObject({ project: projectParam }) },
  responses: { 200: json(z.object({ data: z.array(PolicySchema) }).openapi("PolicyList"), "Policies"), ...protectedErrors, ...notFoundError },
});

const templatesRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/policies/templates",
  tags: ["decisions"],
  summary: "Templates for the usual policies; create one with POST /v1/policies {template, params}",
  responses: { 200: json(z.object({ data: z.array(TemplateSchema) }).openapi("PolicyTemplateList"), "Templates"), ...protectedErrors },
});

const CreateBody = policyCreateSchema({
  project: text(200, "Project (Uploadcare public key); may be left out when only one is configured").optional(),
}).openapi("PolicyCreate");

const createRoute = protectedRoute("operator", {
  method: "post",
  path: "/v1/policies",
  tags: ["decisions"],
  summary: "Create a policy, written out (action, conditions) or from a template (template, params)",
  description:
    "A policy whose conditions narrow nothing needs `allowMatchAll: true`. Creating a policy changes no file: it is used by proposing a plan. " +
    "`tag` policies carry `tag: {set, remove}` (metadata keys), `version` policies `versionSpec: {operations, deleteOriginal}` (a local copy with CDN operations).",
  request: { body: { content: { "application/json": { schema: CreateBody } }, required: true } },
  responses: {
    201: json(PolicySchema, "Created"),
    ...protectedErrors,
    ...notFoundError,
    ...conflictError("A live policy of that name exists in the project"),
    ...tooLargeError,
  },
});

const getRoute = protectedRoute("viewer", {
  method: "get",
  path: "/v1/policies/{id}",
  tags: ["decisions"],
  summary: "One policy",
  request: { params: PolicyParams },
  responses: { 200: json(PolicySchema, "The policy"), ...protectedErrors, ...notFoundError },
});

const patchRoute = protectedRoute("operator", {
  method: "patch",
  path: "/v1/policies/{id}",
  tags: ["decisions"],
  summary: "Edit a policy (its action stays); plans already proposed keep the version they froze",
  request: { params: PolicyParams, body: { content: { "application/json": { schema: PolicyPatch.openapi("PolicyPatch") } }, required: true } },
  responses: {
    200: json(PolicySchema, "The policy as edited"),
    ...protectedErrors,
    ...notFoundError,
    ...conflictError("The name is taken, or the policy changed meanwhile"),
    ...tooLargeError,
  },
});

const deleteRoute = protectedRoute("operator", {
  method: "delete",
  path: "/v1/policies/{id}",
  tags: ["decisions"],
  summary: "Delete a policy (its plans stay, with the policy as they froze it)",
  request: { params: PolicyParams },
  responses: { 200: json(PolicySchema, "The deleted policy"), ...protectedErrors, ...notFoundError },
});

/** The one project a write is about: the one named, or the only one there is. */
export async function oneProject(db: Queryable, project: string | undefined): Promise<string> {
  const projects = await resolveProjects(db, project);
  if (projects.length !== 1) throw new ValidationError("project: required, since several projects are configured");
  return projects[0]!;
}

const show = (p: PolicyRecord) => PolicySchema.parse(p);

export const actorOf = (caller: Caller) => `token:${caller.name}`;

export function registerPolicies(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  const now = deps.now ?? (() => new Date());

  app.openapi(listRoute, async (c) => {
    const { project } = c.req.valid("query");
    const policies = await listPolicies(db, await resolveProjects(db, project));
    return c.json({ data: policies.map(show) }, 200);
  });

  app.openapi(templatesRoute, async (c) => c.json({ data: POLICY_TEMPLATES.map(({ id, action, summary, params }) => ({ id, action, summary, params })) }, 200));

  app.openapi(createRoute, async (c) => {
    const { project, ...body } = c.req.valid("json");
    const projectKey = await oneProject(db, project);
    const created = await createPolicy({ db, now }, { projectKey, body, actor: actorOf(c.get("caller") as Caller) });
    return c.json(show(created), 201);
  });

  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    return c.json(show(await findPolicy(db, { idOrName: id, projectKeys: await resolveProjects(db, undefined) })), 200);
  });

  app.openapi(patchRoute, async (c) => {
    const { id } = c.req.valid("param");
    const patch = c.req.valid("json");
    const edited = await editPolicy({ db, now }, { id, projectKeys: await resolveProjects(db, undefined), patch, actor: actorOf(c.get("caller") as Caller) });
    return c.json(show(edited), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const { id } = c.req.valid("param");
    const removed = await removePolicy({ db, now }, { id, projectKeys: await resolveProjects(db, undefined), actor: actorOf(c.get("caller") as Caller) });
    return c.json(show(removed), 200);
  });
}
