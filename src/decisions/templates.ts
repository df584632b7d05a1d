import { z } from "zod";
import type { PolicyAction } from "../db/schema/index.ts";
import { ValidationError } from "../errors.ts";
import { DEFAULT_GRACE_DAYS, MetadataKey, safeText, type Condition } from "./conditions.ts";

/**
 * Policies for the usual cases. A template turns a few parameters into the
 * action and conditions of a policy; the result is saved like any policy, so
 * it can be read and edited afterwards. Parameters arrive as text from the
 * command line and as JSON from the API, hence the coercions.
 */

const positive = (what: string) => z.coerce.number({ message: `must be a number of ${what}` }).positive(`must be more than 0 ${what}`);
const mimeList = z
  .string()
  .transform((s) => s.split(",").map((t) => t.trim()).filter(Boolean));

export interface PolicyTemplate {
  id: string;
  action: PolicyAction;
  summary: string;
  /** Parameter name → what it means. */
  params: Record<string, string>;
  build(params: Record<string, unknown>): { conditions: Condition[]; description: string; archive?: { target: string } };
}

function parse<T extends z.ZodType>(schema: T, params: Record<string, unknown>, template: string): z.infer<T> {
  const parsed = schema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "params";
    throw new ValidationError(`params.${where}: ${issue?.message ?? "invalid"} (template ${template})`);
  }
  return parsed.data;
}

/** Uploadcare removes unstored files 24 hours after upload. */
const UNSTORED_LIFETIME_HOURS = 24;

export const POLICY_TEMPLATES: PolicyTemplate[] = [
  {
    id: "store-matching-unstored",
    action: "store",
    summary: "Store unstored files that match a rule before their 24 hours run out",
    params: {
      metadataKey: "store files whose metadata has this key…",
      metadataValue: "…with this value (optional: any value)",
      mime: "and/or files of these MIME types, comma-separated (image/*, application/pdf)",
    },
    build(raw) {
      const p = parse(
        z
          .strictObject({ metadataKey: MetadataKey.optional(), metadataValue: safeText(512).optional(), mime: mimeList.optional() })
          .refine((v) => v.metadataKey !== undefined || (v.mime?.length ?? 0) > 0, "needs metadataKey or mime: the rule that picks the files to keep")
          .refine((v) => v.metadataValue === undefined || v.metadataKey !== undefined, "metadataValue needs metadataKey"),
        raw,
        "store-matching-unstored",
      );
      const conditions: Condition[] = [
        { kind: "state", in: ["unstored"] },
        { kind: "age", newerThanHours: UNSTORED_LIFETIME_HOURS },
      ];
      if (p.metadataKey) {
        conditions.push(
          p.metadataValue !== undefined
            ? { kind: "metadata", key: p.metadataKey, op: "equals", value: p.metadataValue }
            : { kind: "metadata", key: p.metadataKey, op: "exists" },
        );
      }
      if (p.mime?.length) conditions.push({ kind: "mime", types: p.mime });
      return { conditions, description: "Keeps temporary uploads that match the rule before Uploadcare removes them." };
    },
  },
  {
    id: "delete-infected",
    action: "delete",
    summary: "Delete files the ClamAV virus scan found infected",
    params: {},
    build(raw) {
      parse(z.strictObject({}), raw, "delete-infected");
      return {
        conditions: [{ kind: "appdata", path: "uc_clamav_virus_scan.data.infected", op: "equals", value: true }],
        description: "Deletes every live file whose uc_clamav_virus_scan add-on reported an infection.",
      };
    },
  },
  {
    id: "delete-unstored-older-than",
    action: "delete",
    summary: "Delete unstored files older than N hours (before Uploadcare's own 24-hour expiry)",
    params: { hours: "age in hours, more than 0" },
    build(raw) {
      const p = parse(z.strictObject({ hours: positive("hours") }), raw, "delete-unstored-older-than");
      return {
        conditions: [
          { kind: "state", in: ["unstored"] },
          { kind: "age", olderThanHours: p.hours },
        ],
        description: `Deletes temporary uploads once they are ${p.hours} hours old.`,
      };
    },
  },
  {
    id: "delete-old-with-metadata",
    action: "delete",
    summary: "Delete files older than N days whose metadata key has a given value",
    params: { days: "age in days, more than 0", metadataKey: "metadata key", metadataValue: "its value" },
    build(raw) {
      const p = parse(
        z.strictObject({ days: positive("days"), metadataKey: MetadataKey, metadataValue: safeText(512) }),
        raw,
        "delete-old-with-metadata",
      );
      return {
        conditions: [
          { kind: "age", olderThanHours: p.days * 24 },
          { kind: "metadata", key: p.metadataKey, op: "equals", value: p.metadataValue },
        ],
        description: `Deletes files older than ${p.days} days with metadata ${p.metadataKey} = ${JSON.stringify(p.metadataValue)}.`,
      };
    },
  },
  {
    id: "archive-older-than",
    action: "archive",
    summary: "Copy files older than N days to a custom storage, then delete them from Uploadcare",
    params: { days: "age in days, more than 0", target: "the custom storage's name in the project" },
    build(raw) {
      const p = parse(z.strictObject({ days: positive("days"), target: safeText(200) }), raw, "archive-older-than");
      return {
        conditions: [{ kind: "age", olderThanHours: p.days * 24 }],
        description: `Archives files older than ${p.days} days to ${p.target}.`,
        archive: { target: p.target },
      };
    },
  },
  {
    id: "delete-orphans",
    action: "delete",
    summary: "Delete files no reference source has pointed at for N days (orphans), sparing recent uploads",
    params: { days: "unreferenced for at least this many days, more than 0", graceDays: `never files uploaded in the last N days (default ${DEFAULT_GRACE_DAYS})` },
    build(raw) {
      const p = parse(
        z.strictObject({ days: positive("days"), graceDays: z.coerce.number({ message: "must be a number of days" }).min(0, "must be 0 or more").optional() }),
        raw,
        "delete-orphans",
      );
      return {
        conditions: [{ kind: "unreferenced", forAtLeastDays: p.days, graceDays: p.graceDays ?? DEFAULT_GRACE_DAYS }],
        description: `Deletes files that nothing has referenced for ${p.days} days (see docs/references.md), except uploads of the last ${p.graceDays ?? DEFAULT_GRACE_DAYS} days.`,
      };
    },
  },
];

export function findTemplate(id: string): PolicyTemplate {
  const template = POLICY_TEMPLATES.find((t) => t.id === id);
  if (!template) throw new ValidationError(`template: no template ${JSON.stringify(id)} (templates: ${POLICY_TEMPLATES.map((t) => t.id).join(", ")})`);
  return template;
}
