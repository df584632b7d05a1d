import type { Db, Queryable } from "../../db/client.ts";
import type { Logger } from "../../logger.ts";
import { recordRun, type RunSummary } from "../runs.ts";
import type { UploadcareClient } from "../uploadcare/client.ts";
import { applyWebhookInbox } from "../webhooks/apply-inbox.ts";
import type { PageProgress } from "./lane-deps.ts";
import { runNewFilesLane } from "./new-files-lane.ts";
import { runReconcileLane } from "./reconcile-lane.ts";
import { runBackfillLane } from "./backfill/backfill-lane.ts";
import { hasBaseline } from "./backfill/backfill-state.ts";
import { createStatisticsKeeper } from "./statistics.ts";
import { refreshDailyRollup } from "../../db/queries/rollup.ts";

export interface SyncFilesDeps {
  db: Db;
  client: UploadcareClient;
  logger: Logger;
  now: () => Date;
  onPage?: (progress: PageProgress) => void;
  /** A scheduled run's fence (see src/scheduler). */
  fence?: (tx: Queryable) => Promise<void>;
  /** Aborted when the run must stop (a scheduled run's lease was lost); checked before every page. */
  signal?: AbortSignal;
  /** How far before its checkpoint the new-files lane reads again (default: DEFAULT_LOOKBACK_MS). */
  lookbackMs?: number;
  /** Most list requests a backfill keeps in flight (default: DEFAULT_LIST_CONCURRENCY). */
  concurrency?: number;
}

export type FilesLane = "webhooks" | "new" | "reconcile" | "backfill";

/**
 * One pass over a project's files: the webhook inbox first (cheap, newest
 * news), then the new-files lane, then, with `full`, the reconciliation scan.
 * Each lane is its own recorded run; a failed lane does not stop the next,
 * since each keeps its own checkpoint.
 */
export async function syncFiles(deps: SyncFilesDeps, options: { full?: boolean; lanes?: FilesLane[] } = {}): Promise<RunSummary[]> {
  const projectKey = deps.client.transport.projectKey;
  const lanes = await withBackfill(deps, projectKey, options.lanes ?? (options.full ? ["webhooks", "new", "reconcile"] : ["webhooks", "new"]));
  const summaries: RunSummary[] = [];
  const statistics = createStatisticsKeeper(deps.db);
  for (const lane of lanes) {
    summaries.push(
      await recordRun(deps, { projectKey, stream: "files", lane }, async (run) => {
        // Requests made for this run carry its id in the API log.
        const client = deps.client.forRun(run.runId);
        const laneDeps = { ...deps, client, logger: run.logger, noteWritten: statistics.noteWritten };
        if (lane === "webhooks") await applyWebhookInbox(laneDeps, projectKey, run);
        else if (lane === "new") await runNewFilesLane(laneDeps, run);
        else if (lane === "backfill") await runBackfillLane(laneDeps, run);
        else await runReconcileLane(laneDeps, run);
      }),
    );
  }
  await statistics.finish().catch((err: unknown) =>
    deps.logger.warn({ project: projectKey, err: (err as Error).message }, "refreshing planner statistics failed; the next sync retries it"),
  );
  // The analysts' daily facts follow the ledger; a failed refresh is caught up by the next one.
  if (summaries.some((s) => s.inserted + s.changed > 0)) {
    await refreshDailyRollup(deps.db, projectKey).catch((err: unknown) =>
      deps.logger.warn({ project: projectKey, err: (err as Error).message }, "daily rollup refresh failed; the next sync retries it"),
    );
  }
  return summaries;
}

/**
 * Until a project has a reconciliation baseline, its new-files and
 * reconciliation lanes are one backfill: every file listed once, concurrently,
 * instead of the live list paged twice (new files, then the scan).
 */
async function withBackfill(deps: SyncFilesDeps, projectKey: string, lanes: FilesLane[]): Promise<FilesLane[]> {
  const listing = (lane: FilesLane) => lane === "new" || lane === "reconcile";
  if (!lanes.some(listing) || (await hasBaseline(deps.db, projectKey))) return lanes;
  const at = lanes.findIndex(listing);
  return [...lanes.slice(0, at).filter((l) => !listing(l)), "backfill", ...lanes.slice(at).filter((l) => !listing(l))];
}

/** The worst status of several runs, for one summary line. */
export function overallStatus(summaries: RunSummary[]): RunSummary["status"] {
  const order: RunSummary["status"][] = ["failed", "rate_limited", "partial", "running", "skipped", "ok"];
  for (const status of order) if (summaries.some((s) => s.status === status)) return status;
  return "ok";
}
