import { z } from "zod";
import { MetadataKey, safeText } from "./conditions.ts";

/*
 * What the tag and version actions do to each file, as a policy states it
 * and a plan freezes it (the policy snapshot's `tag` and `versionSpec`).
 */

/** Uploadcare's limits (reference section 6): values 1-512 characters, at most 50 keys per file. */
export const METADATA_VALUE_MAX = 512;
export const METADATA_KEYS_MAX = 50;

/** `{ set: {key: value}, remove: [key] }`: one request per file and key, only where the value is not already right. */
export const TagSpec = z
  .strictObject({
    // Keys are checked below: a record's key error would only say "Invalid key in record".
    set: z.record(z.string(), safeText(METADATA_VALUE_MAX)).optional(),
    remove: z.array(MetadataKey).optional(),
  })
  .superRefine((t, ctx) => {
    const set = Object.keys(t.set ?? {});
    const remove = t.remove ?? [];
    for (const key of set) {
      if (!MetadataKey.safeParse(key).success) ctx.addIssue({ code: "custom", path: ["set", key], message: "is not a metadata key: keys are 1-64 letters, digits, '_', '-', '.' or ':'" });
    }
    if (set.length + remove.length === 0) ctx.addIssue({ code: "custom", message: "must set or remove at least one metadata key" });
    if (set.length + remove.length > METADATA_KEYS_MAX) ctx.addIssue({ code: "custom", message: `at most ${METADATA_KEYS_MAX} keys (Uploadcare's limit per file)` });
    for (const key of remove) if (set.includes(key)) ctx.addIssue({ code: "custom", path: ["remove"], message: `${key} is both set and removed` });
    if (new Set(remove).size !== remove.length) ctx.addIssue({ code: "custom", path: ["remove"], message: "names a key twice" });
  });
export type TagSpec = z.infer<typeof TagSpec>;

/** The keys a tag plan touches, in a stable order. */
export function tagKeys(spec: TagSpec): string[] {
  return [...Object.keys(spec.set ?? {}), ...(spec.remove ?? [])].sort();
}

/** A CDN operation: `-/name/` or `-/name/arg/…/`, e.g. `-/format/webp/`, `-/quality/smart/`, `-/resize/800x/`. */
const OPERATIONS = /^(-\/[a-z_]+\/(?:[A-Za-z0-9_.,:%x-]+\/)*)*$/;

/** Uploadcare refuses operations on sources larger than this (reference section 5). */
export const MAX_TRANSFORMED_COPY_BYTES = 100 * 1024 ** 2;
/** …and plain copies of sources larger than this. */
export const MAX_COPY_BYTES = 5 * 1024 ** 3;

export const VersionSpec = z.strictObject({
  /** CDN operations baked into the copy, e.g. `-/format/webp/-/quality/smart/`; empty for a plain copy. */
  operations: z
    .string()
    .max(500, "must be at most 500 characters")
    .transform((s) => (s === "" || s.endsWith("/") ? s : `${s}/`))
    .refine((s) => OPERATIONS.test(s), "must be CDN operations like -/format/webp/-/quality/smart/ (or empty)")
    .default(""),
  /** Delete the original once its copy is confirmed (and the original judged again, like an archive). Default false. */
  deleteOriginal: z.boolean().default(false),
});
export type VersionSpec = z.infer<typeof VersionSpec>;

/** Metadata each copy carries, so a rerun after a crash finds the copy instead of making another. */
export const VERSION_OF_KEY = "ucledger_version_of";
export const VERSION_PLAN_KEY = "ucledger_plan";

/** The largest source Uploadcare copies with these operations. */
export function maxSourceBytes(spec: VersionSpec): number {
  return spec.operations ? MAX_TRANSFORMED_COPY_BYTES : MAX_COPY_BYTES;
}
