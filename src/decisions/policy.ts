import { z } from "zod";
import { POLICY_ACTIONS } from "../db/schema/index.ts";
import { TagSpec, VersionSpec } from "./action-specs.ts";
import { Condition, restrictsFiles, safeText } from "./conditions.ts";

export const ArchiveTarget = z.strictObject({
  /** The custom storage's name in the Uploadcare project. */
  target: safeText(200),
  /** Uploadcare's path pattern; default `${default}` (= `${uuid}/${auto_filename}`). */
  pattern: safeText(500).optional(),
  /** Default false: archives are not public. */
  makePublic: z.boolean().optional(),
});
export type ArchiveTarget = z.infer<typeof ArchiveTarget>;

export const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.:-]{0,99}$/;
const policyName = z.string().regex(POLICY_NAME, "must be 1-100 letters, digits, spaces, '_', '.', ':' or '-', starting with a letter or digit");

const fields = {
  name: policyName,
  description: safeText(2000, 0).optional(),
  action: z.enum(POLICY_ACTIONS, { message: "must be store, delete, archive, tag or version" }),
  conditions: z.array(Condition).max(20, "at most 20 conditions"),
  allowMatchAll: z.boolean().optional(),
  archive: ArchiveTarget.optional(),
  /** Tag: the metadata keys to set and remove. */
  tag: TagSpec.optional(),
  /** Version: the CDN operations of the copy, and whether the original is deleted once the copy is confirmed. */
  versionSpec: VersionSpec.optional(),
};

type PolicyFields = {
  action: string;
  conditions: Condition[];
  allowMatchAll?: boolean | undefined;
  archive?: ArchiveTarget | undefined;
  tag?: TagSpec | undefined;
  versionSpec?: VersionSpec | undefined;
};

/** Each action's own settings: present for that action, absent for the others. */
const ACTION_FIELDS = [
  { field: "archive", action: "archive", missing: "an archive policy needs archive.target, the custom storage to copy to" },
  { field: "tag", action: "tag", missing: "a tag policy needs tag: {set: {key: value}} and/or {remove: [key]}" },
  { field: "versionSpec", action: "version", missing: "a version policy needs versionSpec: {operations, deleteOriginal}" },
] as const;

/** The rules every saved policy obeys, whichever way it was written. */
function checkPolicy(p: PolicyFields, ctx: z.RefinementCtx): void {
  if (!p.allowMatchAll && !restrictsFiles(p.conditions)) {
    ctx.addIssue({
      code: "custom",
      path: ["conditions"],
      message: "would match every file: add a condition that narrows it, or set allowMatchAll to true",
    });
  }
  for (const f of ACTION_FIELDS) {
    if (p.action === f.action && !p[f.field]) ctx.addIssue({ code: "custom", path: [f.field], message: f.missing });
    if (p.action !== f.action && p[f.field]) ctx.addIssue({ code: "custom", path: [f.field], message: `only a ${f.action} policy takes ${f.field}` });
  }
}

export const PolicyInput = z.strictObject(fields).superRefine(checkPolicy);
export type PolicyInput = z.infer<typeof PolicyInput>;

/** An edit: any field; the result must still be a valid policy. */
export const PolicyPatch = z.strictObject({
  name: fields.name.optional(),
  description: safeText(2000, 0).nullable().optional(),
  conditions: fields.conditions.optional(),
  allowMatchAll: z.boolean().optional(),
  archive: ArchiveTarget.optional(),
  tag: TagSpec.optional(),
  versionSpec: VersionSpec.optional(),
});
export type PolicyPatch = z.infer<typeof PolicyPatch>;

const createFields = {
  ...fields,
  action: fields.action.optional(),
  conditions: fields.conditions.optional(),
  template: safeText(100).optional(),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
};

type CreateFields = { [K in keyof typeof createFields]: z.infer<(typeof createFields)[K]> };

function checkCreate(v: CreateFields, ctx: z.RefinementCtx): void {
  if (v.template !== undefined) {
    for (const key of ["action", "conditions"] as const) {
      if (v[key] !== undefined) ctx.addIssue({ code: "custom", path: [key], message: "give either template (with params) or action and conditions, not both" });
    }
    return;
  }
  if (v.params !== undefined) ctx.addIssue({ code: "custom", path: ["params"], message: "params go with template" });
  if (v.action === undefined) ctx.addIssue({ code: "custom", path: ["action"], message: "is required (or give template)" });
  if (v.conditions === undefined) ctx.addIssue({ code: "custom", path: ["conditions"], message: "is required (or give template)" });
  if (v.action !== undefined && v.conditions !== undefined) checkPolicy({ ...v, action: v.action, conditions: v.conditions }, ctx);
}

/**
 * A new policy, written out (`action` and `conditions`) or from a template
 * (`template` and `params`, see templates.ts). `extra` adds transport fields
 * (the API's `project`) to the same strict object.
 */
export function policyCreateSchema<E extends z.ZodRawShape>(extra: E) {
  return z.strictObject({ ...createFields, ...extra }).superRefine((v, ctx) => checkCreate(v as unknown as CreateFields, ctx));
}

export const PolicyCreate = policyCreateSchema({});
export type PolicyCreate = z.infer<typeof PolicyCreate>;
