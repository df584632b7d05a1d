import type { Queryable } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import type { ManualRun } from "../scheduler/exclusion.ts";

/** The streams the API knows; a deployment runs those it has a job for. */
export const SYNC_STREAMS = ["files", "usage"] as const;
export type SyncStream = (typeof SYNC_STREAMS)[number];

export interface SyncStartOptions {
  /** files: also run the reconciliation scan. */
  full: boolean;
}

/** What a run holding its stream's claim must honour: the fence in every write, the signal before every page. */
export interface HeldClaim {
  fence: (tx: Queryable) => Promise<void>;
  signal: AbortSignal;
}

/** One run of one stream for one project, under its claim; records its own `sync_runs` rows. */
export type StreamJob = (projectKey: string, options: SyncStartOptions, held: HeldClaim) => Promise<unknown>;

/**
 * What `POST /v1/sync/{stream}/run` drives. The API builds no Uploadcare
 * clients: `src/index.ts` hands it one job per stream. The route takes each
 * run's claim first (see src/scheduler/exclusion.ts), so a run here never
 * overlaps a scheduled one or one started elsewhere.
 */
export interface SyncRunner {
  /** Projects runs can be started for. */
  readonly projects: readonly string[];
  supports(stream: SyncStream): boolean;
  /** True while this process runs the stream for the project. */
  isRunning(stream: SyncStream, projectKey: string): boolean;
  /**
   * Marks the run as running at once (before any await), then runs it in the
   * background under its claim, renewing the lease. The promise settles when
   * the run ends and the claim is ended, and never rejects.
   */
  start(stream: SyncStream, projectKey: string, options: SyncStartOptions, claim: ManualRun): Promise<void>;
}

export function createSyncRunner(deps: {
  projects: string[];
  streams: Partial<Record<SyncStream, StreamJob>>;
  logger: Logger;
}): SyncRunner {
  const running = new Set<string>();
  const key = (stream: SyncStream, projectKey: string) => `${stream}\u0000${projectKey}`;
  const logger = deps.logger.child({ module: "api.sync" });
  return {
    projects: deps.projects,
    supports: (stream) => deps.streams[stream] !== undefined,
    isRunning: (stream, projectKey) => running.has(key(stream, projectKey)),
    async start(stream, projectKey, options, claim) {
      const job = deps.streams[stream];
      running.add(key(stream, projectKey));
      try {
        if (!job) {
          await claim.drop(`this server has no job for stream ${stream}`);
          throw new Error(`no job for stream ${stream}`);
        }
        await claim.run((held) => job(projectKey, options, held));
      } catch (err) {
        // Runs record their own failures; this catches what fails before or around them.
        logger.error({ stream, project: projectKey, err: (err as Error).message }, "sync started through the API failed");
      } finally {
        running.delete(key(stream, projectKey));
      }
    },
  };
}
