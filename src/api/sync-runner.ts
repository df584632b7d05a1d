import type { Logger } from "../logger.ts";

/** The streams the API knows; a deployment runs those it has a job for. */
export const SYNC_STREAMS = ["files", "usage"] as const;
export type SyncStream = (typeof SYNC_STREAMS)[number];

export interface SyncStartOptions {
  /** files: also run the reconciliation scan. */
  full: boolean;
}

/** One run of one stream for one project; records its own `sync_runs` rows. */
export type StreamJob = (projectKey: string, options: SyncStartOptions) => Promise<unknown>;

/**
 * What `POST /v1/sync/{stream}/run` drives. The API builds no Uploadcare
 * clients: `src/index.ts` hands it one job per stream.
 */
export interface SyncRunner {
  /** Projects runs can be started for. */
  readonly projects: readonly string[];
  supports(stream: SyncStream): boolean;
  /** True while this process runs the stream for the project. */
  isRunning(stream: SyncStream, projectKey: string): boolean;
  /**
   * Marks the run as running at once (before any await), then runs it in the
   * background. The promise settles when the run ends and never rejects.
   */
  start(stream: SyncStream, projectKey: string, options: SyncStartOptions): Promise<void>;
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
    async start(stream, projectKey, options) {
      const job = deps.streams[stream];
      if (!job) throw new Error(`no job for stream ${stream}`);
      running.add(key(stream, projectKey));
      try {
        await job(projectKey, options);
      } catch (err) {
        // Runs record their own failures; this catches what fails before or around them.
        logger.error({ stream, project: projectKey, err: (err as Error).message }, "sync started through the API failed");
      } finally {
        running.delete(key(stream, projectKey));
      }
    },
  };
}
