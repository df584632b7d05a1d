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

/** Adds one committed page to the run's counts and tells the statistics keeper what it wrote. */
export async function countPage(
  deps: Pick<LaneDeps, "noteWritten">,
  run: LaneRun,
  listed: number,
  counts: { inserted: number; changed: number; quarantined: number },
): Promise<void> {
  run.counts.pages += 1;
  run.counts.seen += listed;
  run.counts.inserted += counts.inserted;
  run.counts.changed += counts.changed;
  run.counts.quarantined += counts.quarantined;
  await deps.noteWritten?.(counts.inserted + counts.changed);
}

/** Who the ledger names as the actor of what a sync lane observes. */
export const SYNC_ACTOR = "ucledger:sync";
