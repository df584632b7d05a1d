/**
 * What `query.ts` reads and `compute.ts` turns into a report. Time series come
 * as small buckets (`at` = the bucket's first instant) so that compute, not
 * SQL, assigns them to local days: 15-minute UTC buckets fall wholly inside
 * one local day in every time zone whose offset is a multiple of 15 minutes
 * (all of today's IANA zones). Rows cover the report's week and the one before.
 * "current" is the report's week, "previous" the week before it.
 *
 * A file's store time is the one the ledger last saw, kept after deletion
 * (`coalesce(datetime_stored, last_stored_at)`): Uploadcare clears
 * `datetime_stored` on delete, and a past week's figures must not change then.
 */

export type Week = "current" | "previous";

export interface UploadBucket {
  at: string;
  count: number;
  bytes: number;
  /** Of those, files the ledger never saw stored (temporary uploads Uploadcare removes after 24 h). */
  unstoredCount: number;
  unstoredBytes: number;
}

export interface AmountBucket {
  at: string;
  count: number;
  bytes: number;
}

export interface RemovalBucket extends AmountBucket {
  /** Of those, files that had been stored: they leave the stored total. */
  storedCount: number;
  storedBytes: number;
}

export interface RequestBucket {
  at: string;
  count: number;
  /** No answer, or a status of 400 or above. */
  errors: number;
}

export interface FileItem {
  uuid: string;
  filename: string;
  mimeType: string;
  size: number;
  uploadedAt: string;
  /** The store time the ledger last saw, kept after deletion; null when never stored. */
  storedAt: string | null;
  removedAt: string | null;
}

export interface WeeklyRows {
  project: { key: string; name: string };
  uploads: UploadBucket[];
  /** By the time each file was stored (files removed at or before that time left out). */
  stores: AmountBucket[];
  removals: RemovalBucket[];
  /** Files stored (and not yet removed) at the start of the previous week. */
  storedAtStart: { count: number; bytes: number };
  mimeTypes: { week: Week; mimeType: string; count: number; bytes: number }[];
  /** The largest files uploaded in the current week, largest first. */
  largestFiles: FileItem[];
  /** Per week: files uploaded in its last 24 h that were neither stored nor removed when it ended. */
  expiring: { week: Week; count: number; bytes: number }[];
  /** The current week's such files, oldest first (they expire first). */
  expiringFiles: FileItem[];
  deletions: { week: Week; actor: string; source: string; count: number; bytes: number }[];
  /** `usage_daily` rows for the dates of both weeks. */
  usage: { date: string; metric: string; value: number; unit: string }[];
  requests: RequestBucket[];
  requestsByStatus: { week: Week; status: number | null; count: number }[];
  plans: { week: Week; planId: string; kind: string; files: number }[];
  /** Version plans that delete originals: bytes saved by the items finished in each week (originals minus copies). */
  planSavings?: { week: Week; planId: string; bytes: number }[];
  syncLanes: {
    stream: string;
    lane: string;
    /** Last successful finish before the end of the current / previous week. */
    lastSuccessAt: string | null;
    previousLastSuccessAt: string | null;
    failed: { current: number; previous: number };
    incomplete: { current: number; previous: number };
  }[];
  deliveryFailures: { week: Week; failedAttempts: number; deliveries: number; gaveUp: number }[];
  /** Unreferenced files and reference sources; null (or absent) when the project has no source. */
  orphans?: OrphanRows | null;
}

export interface OrphanRows {
  /** When the ledger was read: orphans are counted as of then, not as of the week's end. */
  asOf: string;
  /** Live files (not removed, not missing) nothing references. */
  orphans: { count: number; bytes: number };
  over30Days: { count: number; bytes: number };
  over90Days: { count: number; bytes: number };
  /** Still unreferenced, and unreferenced since a moment inside the report's week. */
  newThisWeek: { count: number; bytes: number };
  /** Files without a reference that count as referenced because a stale source has not reported since. */
  heldByStale: number;
  sources: {
    source: string;
    kind: string;
    refs: number;
    staleAfterHours: number;
    lastReportedAt: string | null;
    stale: boolean;
    applied: { current: number; previous: number };
    refused: { current: number; previous: number };
  }[];
}
