import { z } from "zod";
import { toEpochMicros } from "../../db/timestamps.ts";

/** A timestamp Uploadcare sends: validated exactly, kept as the raw string. */
const Timestamp = z.string().refine((v) => {
  try {
    toEpochMicros(v);
    return true;
  } catch {
    return false;
  }
}, "must be an ISO 8601 timestamp");

/**
 * The file object of REST API v0.7 (reference section 3). Unknown fields pass
 * through untouched so the ledger keeps the whole object as sent.
 */
export const UploadcareFile = z.looseObject({
  uuid: z.uuid({ message: "must be a UUID" }),
  datetime_uploaded: Timestamp,
  datetime_stored: Timestamp.nullable(),
  datetime_removed: Timestamp.nullable(),
  size: z.number().int().nonnegative(),
  mime_type: z.string(),
  original_filename: z.string(),
  original_file_url: z.string().nullable(),
  // Null in the immediate answer to a local copy (recorded in 2021).
  is_image: z.boolean().nullable(),
  is_ready: z.boolean().nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  appdata: z.record(z.string(), z.unknown()).nullable().optional(),
  content_info: z.record(z.string(), z.unknown()).nullable().optional(),
});
export type UploadcareFile = z.infer<typeof UploadcareFile>;

/** One page of `GET /files/`. `total`/`totals` are informational only (reference section 2). */
export const FilesPage = z.looseObject({
  next: z.string().nullable(),
  previous: z.string().nullable().optional(),
  total: z.number().optional(),
  totals: z.object({ removed: z.number(), stored: z.number(), unstored: z.number() }).partial().optional(),
  per_page: z.number().optional(),
  results: z.array(z.unknown()),
});
export type FilesPage = z.infer<typeof FilesPage>;

/** Where a zod failure points, as `results.3.uuid: must be a UUID`. */
export function describeZodError(error: z.ZodError, prefix = ""): string {
  const issue = error.issues[0];
  if (!issue) return `${prefix}invalid`;
  const path = issue.path.map(String).join(".");
  return `${prefix}${path}${path ? ": " : ""}${issue.message}`;
}
