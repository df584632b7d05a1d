import type { Db, Queryable } from "../../db/client.ts";
import type { Logger } from "../../logger.ts";
import type { UploadcareClient } from "../uploadcare/client.ts";
import type { RunCounts } from "../runs.ts";

/** Progress after each page, for the CLI's progress bar. */
export interface PageProgress {
  lane: string;
  pages: number;
  seen: number;
  /** Files the lane will list in all, from Uploadcare's `totals` (informational only). */
  expected: number | null;
}

export interface LaneDeps {
  db: Db;
  client: UploadcareClient;
  logger: Logger;
  now: () => Date;
  onPage?: (progress: PageProgress) => void;
  noteWritten?: NoteWritten;
  /** A scheduled run's fence, checked in every transaction the lane commits. */
  fence?: (tx: Queryable) => Promise<void>;
  /** Aborted when the run must stop (its lease was lost): lanes check it before every page. */
  signal?: AbortSignal;
}

export interface LaneRun {
  runId: string;
  counts: RunCounts;
  logger: Logger;
}

/** Called with the rows each page wrote, so the planner's statistics keep up with bulk loads. */
export type NoteWritten = (rows: number) => Promise<void>;

/** Who the ledger names as the actor of what a sync lane observes. */
export const SYNC_ACTOR = "ucledger:sync";
