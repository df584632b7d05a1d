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
}

export const emptyCounts = (): RunCounts => ({ pages: 0, seen: 0, inserted: 0, changed: 0, quarantined: 0 });

/**
 * Wraps one run of one lane: writes its `sync_runs` row, lets the body fill the
 * counts as pages commit, then records how it ended. A failure is recorded and
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
  let status: RunStatus = "ok";
  let error: string | null = null;
  try {
    const outcome = await body({ runId, counts, logger });
    // A run that chose not to work (for example: no token) says why in its error column.
    if (outcome) ({ status, note: error } = outcome);
  } catch (err) {
    error = describeRunError(err);
    status = err instanceof UpstreamError && err.status === 429 ? "rate_limited" : counts.pages > 0 ? "partial" : "failed";
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

/** The message worth keeping: a driver's cause, never a drizzle error's query text. */
export function describeRunError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.name === "DrizzleQueryError" && err.cause instanceof Error) return `database: ${err.cause.message}`;
  return err.message;
}
