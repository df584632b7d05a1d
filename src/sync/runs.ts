import { randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { syncRuns, type RunStatus } from "../db/schema/index.ts";
import { dateToTimestamp } from "../db/timestamps.ts";
import { UpstreamError } from "../errors.ts";
import type { Logger } from "../logger.ts";

export interface RunCounts {
  pages: number;
  seen: number;
  inserted: number;
  changed: number;
  /** Upstream records set aside or stored in their escaped form (see file_quarantine). */
  quarantined: number;
}

export interface RunSummary extends RunCounts {
  runId: string;
  projectKey: string;
  stream: string;
  lane: string;
  status: RunStatus;
  durationMs: number;
  error: string | null;
}

export interface RunDeps {
  db: Db;
  logger: Logger;
  now: () => Date;
  /** The run's abort signal (its claim's lease was lost): a run stopped by it is recorded as failed, with the reason. */
  signal?: AbortSignal | undefined;
}

/**
 * How often a running run's counts are written to its row. Lanes add to
 * `counts` after each page commits, so the row lags what is committed by at
 * most this long, and a killed run keeps counts that are honest, if short.
 */
export const COUNTS_FLUSH_MS = 1_000;

export const emptyCounts = (): RunCounts => ({ pages: 0, seen: 0, inserted: 0, changed: 0, quarantined: 0 });

/**
 * Wraps one run of one lane: writes its `sync_runs` row, lets the body fill the
 * counts as pages commit (written to the row every COUNTS_FLUSH_MS, so a run
 * whose process dies keeps what it did), then records how it ended. A failure is recorded and
 * logged once here and returned in the summary; the checkpoint stays where the
 * last committed page put it.
 */
export async function recordRun(
  deps: RunDeps,
  what: { projectKey: string; stream: string; lane: string; runId?: string },
  body: (run: { runId: string; counts: RunCounts; logger: Logger }) => Promise<{ status: RunStatus; note: string } | void>,
): Promise<RunSummary> {
  const runId = what.runId ?? randomUUID();
  const started = deps.now();
  // Every line of the run carries its id; the project only once, if the caller's logger lacks it.
  const bound = deps.logger.bindings() as { project?: string };
  const logger = deps.logger.child({ runId, ...(bound.project ? {} : { project: what.projectKey }), stream: what.stream, lane: what.lane });
  await deps.db.insert(syncRuns).values({
    projectKey: what.projectKey,
    id: runId,
    stream: what.stream,
    lane: what.lane,
    startedAt: dateToTimestamp(started),
    status: "running",
  });

  const counts = emptyCounts();
  const flusher = flushCountsWhileRunning(deps, what.projectKey, runId, counts, logger);
  let status: RunStatus = "ok";
  let error: string | null = null;
  try {
    // A lane after one that lost the lease does not start: it is recorded as failed with the reason.
    deps.signal?.throwIfAborted();
    const outcome = await body({ runId, counts, logger });
    // A run that chose not to work (for example: no token) says why in its error column.
    if (outcome) ({ status, note: error } = outcome);
  } catch (err) {
    if (deps.signal?.aborted || (err instanceof Error && err.name === "FencedError")) {
      // Stopped because another run holds its claim now (its signal fired, or the fence refused a
      // write first): a failure, whatever the lane threw on the way out, and the error says why.
      error = describeRunError(deps.signal?.aborted ? deps.signal.reason : err);
      status = "failed";
    } else {
      error = describeRunError(err);
      status = err instanceof UpstreamError && err.status === 429 ? "rate_limited" : counts.pages > 0 ? "partial" : "failed";
    }
  } finally {
    await flusher.stop();
  }
  const finished = deps.now();
  await deps.db
    .update(syncRuns)
    .set({ finishedAt: dateToTimestamp(finished), status, error, ...counts })
    .where(and(eq(syncRuns.projectKey, what.projectKey), eq(syncRuns.id, runId)));

  const summary: RunSummary = {
    runId,
    projectKey: what.projectKey,
    stream: what.stream,
    lane: what.lane,
    status,
    durationMs: finished.getTime() - started.getTime(),
    error,
    ...counts,
  };
  if (status === "skipped") logger.warn({ status, reason: error }, `sync run skipped: ${error}`);
  else if (error) logger.error({ ...counts, status, error }, "sync run failed");
  else logger.info({ ...counts, status, durationMs: summary.durationMs }, "sync run finished");
  return summary;
}

/**
 * Writes the counts to the run's row every COUNTS_FLUSH_MS while they change.
 * One small update per interval; only while the row still says `running`, so a
 * run closed as abandoned by another is left closed.
 */
function flushCountsWhileRunning(deps: RunDeps, projectKey: string, runId: string, counts: RunCounts, logger: Logger) {
  let written = JSON.stringify(counts);
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    const now = JSON.stringify(counts);
    if (now === written) return;
    written = now;
    const snapshot = { ...counts };
    pending = pending.then(() =>
      deps.db
        .update(syncRuns)
        .set(snapshot)
        .where(and(eq(syncRuns.projectKey, projectKey), eq(syncRuns.id, runId), eq(syncRuns.status, "running")))
        .then(
          () => logger.debug({ pages: snapshot.pages, seen: snapshot.seen }, "run counts written"),
          (err: unknown) => {
            written = "";
            logger.debug({ err: describeRunError(err) }, "could not write the run's counts; the next interval tries again");
          },
        ),
    );
  }, COUNTS_FLUSH_MS);
  // A run's end never waits on this timer.
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await pending;
    },
  };
}

/** The message worth keeping: a driver's cause, never a drizzle error's query text. */
export function describeRunError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === "DrizzleQueryError" && err.cause instanceof Error) return `database: ${err.cause.message}`;
  return err.message;
}
