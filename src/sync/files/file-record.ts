import { canonicalTimestamp, canonicalTimestampOrNull, laterOf } from "../../db/timestamps.ts";
import type { UploadcareFile } from "../uploadcare/file-object.ts";

/** A file as the ledger compares and stores it: typed fields plus the whole object as sent. */
export interface FileRecord {
  uuid: string;
  datetimeUploaded: string;
  datetimeStored: string | null;
  datetimeRemoved: string | null;
  size: number;
  mimeType: string;
  isImage: boolean | null;
  isReady: boolean | null;
  originalFilename: string;
  originalFileUrl: string | null;
  metadata: Record<string, string>;
  appdata: Record<string, unknown> | null;
  data: Record<string, unknown>;
}

/** Builds the record from a validated upstream object (list page, file info or webhook `data`). */
export function toFileRecord(file: UploadcareFile): FileRecord {
  return {
    uuid: file.uuid.toLowerCase(),
    datetimeUploaded: canonicalTimestamp(file.datetime_uploaded),
    datetimeStored: canonicalTimestampOrNull(file.datetime_stored),
    datetimeRemoved: canonicalTimestampOrNull(file.datetime_removed),
    size: file.size,
    mimeType: file.mime_type,
    isImage: file.is_image,
    isReady: file.is_ready ?? null,
    originalFilename: file.original_filename,
    originalFileUrl: file.original_file_url,
    metadata: file.metadata ?? {},
    appdata: file.appdata ?? null,
    data: file as Record<string, unknown>,
  };
}

/**
 * The newest upstream time a snapshot carries. Uploadcare sends no version
 * number, so this orders snapshots of one file: a snapshot whose newest time is
 * older than what the ledger holds is stale.
 */
export function snapshotTime(record: FileRecord): string {
  let newest: string | null = laterOf(record.datetimeUploaded, laterOf(record.datetimeStored, record.datetimeRemoved));
  for (const entry of Object.values(record.appdata ?? {})) {
    const updated = (entry as { datetime_updated?: unknown } | null)?.datetime_updated;
    if (typeof updated === "string") {
      try {
        newest = laterOf(newest, canonicalTimestamp(updated));
      } catch {
        // An add-on time Uploadcare sent malformed does not order anything.
      }
    }
  }
  return newest ?? record.datetimeUploaded;
}

/**
 * True when `next` must not overwrite `current`: removal is final in Uploadcare,
 * so a snapshot of the file alive is older than one of it removed; otherwise the
 * snapshot with the older newest-time loses.
 */
export function isStale(current: FileRecord, next: FileRecord): boolean {
  if (current.datetimeRemoved !== null && next.datetimeRemoved === null) return true;
  return snapshotTime(next) < snapshotTime(current);
}
