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
  /**
   * When this state was observed: the start of the request that read it, or a
   * webhook delivery's receipt. Orders snapshots of one file (see write-files.ts).
   */
  observedAt: string;
}

/** Builds the record from a validated upstream object (list page, file info or webhook `data`). */
export function toFileRecord(file: UploadcareFile, observedAt: string): FileRecord {
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
    observedAt: canonicalTimestamp(observedAt),
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
 * True when `next` must not overwrite `current`. Observation order first:
 * a snapshot observed before the one held is older, whatever it says. Then what
 * Uploadcare's own times can tell: removal is final, so a snapshot of the file
 * alive is older than one of it removed, and a snapshot whose newest upstream
 * time is older loses. (Metadata, size, `is_ready` and the rest carry no time
 * of their own, which is why observation order is needed at all.)
 */
export function isStale(current: FileRecord, next: FileRecord): boolean {
  if (next.observedAt < current.observedAt) return true;
  if (current.datetimeRemoved !== null && next.datetimeRemoved === null) return true;
  return snapshotTime(next) < snapshotTime(current);
}
