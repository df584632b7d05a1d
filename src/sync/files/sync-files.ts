import type { Db, Queryable } from "../../db/client.ts";
import type { Logger } from "../../logger.ts";
import { recordRun, type RunSummary } from "../runs.ts";
import type { UploadcareClient } from "../uploadcare/client.ts";
import { applyWebhookInbox } from "../webhooks/apply-inbox.ts";
import type { PageProgress } from "./lane-deps.ts";
import { runNewFilesLane } from "./new-files-lane.ts";
import { runReconcileLane } from "./reconcile-lane.ts";
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
}

export type FilesLane = "webhooks" | "new" | "reconcile";

/**
 * One pass over a project's files: the webhook inbox first (cheap, newest
 * news), then the new-files lane, then, with `full`, the reconciliation scan.
 * Each lane is its own recorded run; a failed lane does not stop the next,
 * since each keeps its own checkpoint.
 */
export async function syncFiles(deps: SyncFilesDeps, options: { full?: boolean; lanes?: FilesLane[] } = {}): Promise<RunSummary[]> {
  const lanes = options.lanes ?? (options.full ? ["webhooks", "new", "reconcile"] : ["webhooks", "new"]);
  const projectKey = deps.client.transport.projectKey;
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
        else await runReconcileLane(laneDeps, run);
      }),
    );
  }
  // The analysts' daily facts follow the ledger; a failed refresh is caught up by the next one.
  if (summaries.some((s) => s.inserted + s.changed > 0)) {
    await refreshDailyRollup(deps.db, projectKey).catch((err: unknown) =>
      deps.logger.warn({ project: projectKey, err: (err as Error).message }, "daily rollup refresh failed; the next sync retries it"),
    );
  }
  return summaries;
}

/** The worst status of several runs, for one summary line. */
export function overallStatus(summaries: RunSummary[]): RunSummary["status"] {
  const order: RunSummary["status"][] = ["failed", "rate_limited", "partial", "running", "skipped", "ok"];
  for (const status of order) if (summaries.some((s) => s.status === status)) return status;
  return "ok";
}
