import type { Db } from "../db/client.ts";
import { deletePolicy, findPolicy, insertPolicy, updatePolicy, type PolicyRecord } from "../db/queries/policies.ts";
import { ValidationError } from "../errors.ts";
import { PolicyInput, type PolicyCreate, type PolicyPatch } from "./policy.ts";
import { findTemplate } from "./templates.ts";

export interface PolicyDeps {
  db: Db;
  now: () => Date;
}

/** Validates by the full rules and reports the first problem as `path: message`. */
function validated(candidate: Record<string, unknown>, prefix = ""): PolicyInput {
  const parsed = PolicyInput.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "policy";
    throw new ValidationError(`${prefix}${where}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data;
}

/** The policy a create request describes: written out, or built from its template. */
export function resolvePolicyCreate(input: PolicyCreate): PolicyInput {
  if (input.template === undefined) {
    const { template: _t, params: _p, ...rest } = input;
    return validated(rest);
  }
  const template = findTemplate(input.template);
  const built = template.build(input.params ?? {});
  return validated({
    name: input.name,
    description: input.description ?? built.description,
    action: template.action,
    conditions: built.conditions,
    allowMatchAll: input.allowMatchAll,
    archive: input.archive ?? built.archive,
    tag: input.tag,
    versionSpec: input.versionSpec,
  });
}

export async function createPolicy(deps: PolicyDeps, input: { projectKey: string; body: PolicyCreate; actor: string }): Promise<PolicyRecord> {
  const values = resolvePolicyCreate(input.body);
  return insertPolicy(deps.db, { projectKey: input.projectKey, values, actor: input.actor, now: deps.now() });
}

/** Applies an edit and checks the result as a whole; the action of a policy never changes (make a new one). */
export async function editPolicy(deps: PolicyDeps, input: { id: string; projectKeys: string[]; patch: PolicyPatch; actor: string }): Promise<PolicyRecord> {
  const current = await findPolicy(deps.db, { idOrName: input.id, projectKeys: input.projectKeys });
  const values = validated({
    name: input.patch.name ?? current.name,
    description: input.patch.description === undefined ? (current.description ?? undefined) : (input.patch.description ?? undefined),
    action: current.action,
    conditions: input.patch.conditions ?? current.conditions,
    allowMatchAll: input.patch.allowMatchAll ?? current.allowMatchAll,
    archive: input.patch.archive ?? current.archive ?? undefined,
    tag: input.patch.tag ?? current.tag ?? undefined,
    versionSpec: input.patch.versionSpec ?? current.versionSpec ?? undefined,
  });
  return updatePolicy(deps.db, { projectKey: current.projectKey, id: current.id, values, expectedVersion: current.version, actor: input.actor, now: deps.now() });
}

export async function removePolicy(deps: PolicyDeps, input: { id: string; projectKeys: string[]; actor: string }): Promise<PolicyRecord> {
  const current = await findPolicy(deps.db, { idOrName: input.id, projectKeys: input.projectKeys });
  return deletePolicy(deps.db, { projectKey: current.projectKey, id: current.id, actor: input.actor, now: deps.now() });
}
