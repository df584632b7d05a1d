import type { Runtime } from "./bootstrap.ts";
import type { Queryable } from "./db/client.ts";
import { dropExpiredApiRequests, ensureApiRequestPartitions } from "./db/api-request-partitions.ts";
import { readRolePrivileges } from "./db/privileges.ts";
import { dropOldRefusedDeliveries } from "./db/queries/refused-deliveries.ts";
import { API_LOG_BATCH_RETENTION_DAYS, dropOldApiLogBatches } from "./sync/api-log-ingest.ts";
import { dropEndedDashboardSessions } from "./db/queries/dashboard-sessions.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./observability/metrics.ts";
import type { JobDefinition } from "./scheduler/scheduler.ts";
import { reportSettingsFrom, runDeliveryRetryJob, runWeeklyReportJob } from "./reports/jobs.ts";
import { assertSchedule } from "./scheduler/slots.ts";
import { syncFiles, type FilesLane } from "./sync/files/sync-files.ts";
import type { PageProgress } from "./sync/files/lane-deps.ts";
import { abandonRunsOfStream } from "./db/queries/sync-runs.ts";
import { claimManualRun } from "./scheduler/exclusion.ts";
import type { RunSummary } from "./sync/runs.ts";
import { createUploadcareClient } from "./sync/uploadcare/create-client.ts";
import { syncUsage } from "./sync/usage/sync-usage.ts";
import { dropAbandonedStaging } from "./db/queries/references.ts";
import { dateToTimestamp } from "./db/timestamps.ts";
import { pullReferences } from "./sync/references/pull.ts";
import { resolveAnchorKeys, type AnchorKeys } from "./db/audit/anchor-key.ts";
import { createAnchoring } from "./db/audit/anchoring.ts";

/** Claims of deployment-wide jobs (not about one project) carry this key. */
export const DEPLOYMENT_KEY = "*";

/**
 * Every run of a stream holds the stream's claim for the project (a scheduled
 * slot's, or one taken by hand in src/scheduler/exclusion.ts) and honours it.
 */
export interface RunOptions {
  logger?: Logger;
  /** The claim's fence, checked in every transaction the run commits. */
  fence: (tx: Queryable) => Promise<void>;
  /** Fires when the claim's lease is lost: the run stops before its next page. */
  signal: AbortSignal;
  /** Who runs it (`files.new slot …`, `cli:<host>:<pid>`), named on the runs it finds abandoned. */
  by: string;
  onPage?: (progress: PageProgress) => void;
}

/**
 * How each stream runs for one project, shared by the scheduler, by
 * `POST /v1/sync/{stream}/run` and by `ucledger sync`: one place builds the
 * recorded Uploadcare client. Holding the claim, a run first closes the runs of
 * its stream that a dead process left `running`.
 */
export function createStreams(runtime: Runtime, metrics?: Metrics) {
  const { env, database, logger } = runtime;
  // After each run a signed copy of the chain head (docs/security.md, Anchors); without a key, one warning here.
  const anchoring = createAnchoring({ db: database.db, keys: anchorKeysOf(runtime, { createDemoKey: true }), logger });
  const projectOf = (projectKey: string) => {
    const project = runtime.projects.find((p) => p.publicKey === projectKey);
    if (!project) throw new Error(`project ${projectKey} is not configured`);
    return project;
  };
  const clientFor = (projectKey: string) =>
    createUploadcareClient({
      db: database.db,
      logger,
      project: projectOf(projectKey),
      onRequest: metrics ? metrics.observeUploadcareRequest : undefined,
    });
  const closeAbandoned = async (projectKey: string, stream: string, options: RunOptions) => {
    // Fenced: a run whose claim was already taken over must not close its successor's live rows.
    const closed = await database.db.transaction(async (tx) => {
      await options.fence(tx);
      return abandonRunsOfStream(tx, projectKey, stream, options.by);
    });
    if (closed > 0) (options.logger ?? logger).warn({ project: projectKey, stream, closed }, "closed runs a stopped process left running, as abandoned");
  };
  return {
    async files(projectKey: string, lanes: FilesLane[], options: RunOptions): Promise<RunSummary[]> {
      await closeAbandoned(projectKey, "files", options);
      // Also after a failed run: the pages it committed added events.
      try {
        return await syncFiles(
        {
          db: database.db,
          client: clientFor(projectKey),
          logger: options.logger ?? logger,
          now: () => new Date(),
          fence: options.fence,
          signal: options.signal,
          onPage: options.onPage,
          lookbackMs: env.newFilesLookbackMinutes * 60_000,
          concurrency: env.syncConcurrency,
        },
        { lanes },
        );
      } finally {
        await anchoring.afterRun(projectKey, options.logger ?? logger);
      }
    },
    async usage(projectKey: string, options: RunOptions): Promise<RunSummary> {
      await closeAbandoned(projectKey, "usage", options);
      try {
        return await syncUsage({
        db: database.db,
        client: clientFor(projectKey),
        logger: options.logger ?? logger,
        now: () => new Date(),
        backfillDays: env.usageBackfillDays,
        hasToken: Boolean(projectOf(projectKey).projectApiToken),
        fence: options.fence,
        signal: options.signal,
        });
      } finally {
        await anchoring.afterRun(projectKey, options.logger ?? logger);
      }
    },
    /** The scheduled anchor of a project's chain head (a refusal fails the job). */
    anchor: (projectKey: string, log?: Logger) => anchoring.scheduled(projectKey, log),
  };
}
export type Streams = ReturnType<typeof createStreams>;

/**
 * The anchor keys of this deployment: UCLEDGER_AUDIT_KEY and UCLEDGER_AUDIT_PUBLIC_KEY,
 * or in demo mode a key kept in the data directory (made on first use when asked).
 */
export function anchorKeysOf(runtime: Pick<Runtime, "env" | "sandbox">, options: { createDemoKey: boolean }): AnchorKeys {
  const { audit, dataDir } = runtime.env;
  return resolveAnchorKeys(
    { privateKey: audit.privateKey, publicKeys: audit.publicKeys },
    runtime.sandbox && !audit.privateKey ? { dataDir, createDemoKey: options.createDemoKey } : undefined,
  );
}

/** What failed among a job's runs, for its claim's error; null when nothing did. */
export function failureOf(name: string, summaries: RunSummary[]): string | null {
  const failed = summaries.find((s) => s.status !== "ok" && s.status !== "skipped");
  return failed ? `${name} ended ${failed.status}: ${failed.error}` : null;
}

/** A failed run fails its scheduled job, so the claim records it. */
function assertOk(name: string, summaries: RunSummary[]): void {
  const failure = failureOf(name, summaries);
  if (failure) throw new Error(failure);
}

/**
 * The jobs `npm start` schedules: which cron expression runs which stream.
 * Nothing here decides how a job works, only when it runs.
 */
export function buildJobs(runtime: Runtime, streams: Streams): JobDefinition[] {
  const { env, database } = runtime;
  const schedules = env.schedules;
  const projectKeys = runtime.projects.map((p) => p.publicKey);
  const reports = reportSettingsFrom({ timezone: schedules.timezone, publicUrl: env.publicUrl, mail: env.mail });
  const filesJob = (name: string, variable: string, cron: string, lanes: FilesLane[]): [string, JobDefinition] => [
    variable,
    {
      name,
      cron,
      timezone: "UTC",
      projectKeys,
      run: async (ctx) => assertOk(name, await streams.files(ctx.projectKey, lanes, { ...ctx, by: `${name} slot ${ctx.slot}` })),
    },
  ];

  const jobs: [string, JobDefinition][] = [
    [
      "UCLEDGER_SCHEDULE_ANCHORS",
      {
        name: "audit.anchors",
        cron: env.audit.anchorSchedule,
        timezone: "UTC",
        projectKeys,
        run: async (ctx) => {
          await streams.anchor(ctx.projectKey, ctx.logger);
        },
      },
    ],
    filesJob("files.webhooks", "UCLEDGER_SCHEDULE_WEBHOOKS", schedules.webhooks, ["webhooks"]),
    filesJob("files.new", "UCLEDGER_SCHEDULE_FILES_NEW", schedules.filesNew, ["new"]),
    filesJob("files.reconcile", "UCLEDGER_SCHEDULE_RECONCILE", schedules.reconcile, ["reconcile"]),
    [
      "UCLEDGER_SCHEDULE_USAGE",
      {
        name: "usage.daily",
        cron: schedules.usage,
        timezone: "UTC",
        projectKeys,
        run: async (ctx) => assertOk("usage.daily", [await streams.usage(ctx.projectKey, { ...ctx, by: `usage.daily slot ${ctx.slot}` })]),
      },
    ],
    [
      "UCLEDGER_SCHEDULE_REPORT/UCLEDGER_TIMEZONE",
      {
        name: "report.weekly",
        cron: schedules.report,
        timezone: schedules.timezone,
        projectKeys,
        run: (ctx) => runWeeklyReportJob({ db: database.db, now: () => new Date() }, reports, ctx),
      },
    ],
    [
      "report delivery retries",
      {
        name: "report.deliveries",
        cron: "*/10 * * * *",
        timezone: "UTC",
        projectKeys,
        run: (ctx) => runDeliveryRetryJob({ db: database.db, now: () => new Date() }, reports, ctx),
      },
    ],
    [
      "api_requests maintenance",
      {
        name: "maintenance.api-requests",
        cron: "15 0 * * *",
        timezone: "UTC",
        projectKeys: [DEPLOYMENT_KEY],
        async run() {
          const now = new Date();
          // Partitions are DDL: a least-privilege service role leaves them to the owner's `ucledger db maintain` (said once at start-up).
          if ((await readRolePrivileges(database.db)).ownsApiRequests) {
            await ensureApiRequestPartitions(database.db, now);
            await dropExpiredApiRequests(database.db, now, env.apiLogRetentionDays);
          }
          await dropOldRefusedDeliveries(database.db, new Date(now.getTime() - REFUSED_DELIVERY_RETENTION_DAYS * 86_400_000));
          await dropEndedDashboardSessions(database.db, new Date(now.getTime() - ENDED_SESSION_RETENTION_DAYS * 86_400_000));
          await dropOldApiLogBatches(database.db, new Date(now.getTime() - API_LOG_BATCH_RETENTION_DAYS * 86_400_000));
        },
      },
    ],
  ];
  jobs.push(...referenceJobs(runtime));
  for (const [variable, job] of jobs) assertSchedule(variable, job.cron, job.timezone);
  return jobs.map(([, job]) => job);
}

/** Counts of refused webhook deliveries are kept this long (they are for spotting floods, not for history). */
const REFUSED_DELIVERY_RETENTION_DAYS = 30;
/** Dashboard sessions that expired or were signed out are deleted this long after. */
const ENDED_SESSION_RETENTION_DAYS = 30;

/** How long a replacement's staged rows may sit before they count as abandoned (the process died mid-upload). */
const STAGING_MAX_AGE_MS = 24 * 3_600_000;

/** Each pull source on its schedule, and the daily sweep of abandoned uploads. */
function referenceJobs(runtime: Runtime): [string, JobDefinition][] {
  const { env, database } = runtime;
  const settings = env.references;
  const pulls = settings.sources.filter((s) => s.pull !== undefined);
  return [
    ...pulls.map((source): [string, JobDefinition] => [
      `UCLEDGER_CONFIG referenceSources.${settings.sources.indexOf(source)}.schedule`,
      {
        name: `references.pull.${source.projectKey}.${source.name}`,
        cron: source.pull!.schedule,
        timezone: "UTC",
        projectKeys: [source.projectKey],
        run: async (ctx) => {
          await pullReferences({ db: database.db, now: () => new Date(), settings, logger: ctx.logger, fence: ctx.fence }, { source });
        },
      },
    ]),
    [
      "references maintenance",
      {
        name: "maintenance.references",
        cron: "45 0 * * *",
        timezone: "UTC",
        projectKeys: [DEPLOYMENT_KEY],
        async run() {
          await dropAbandonedStaging(database.db, dateToTimestamp(new Date(Date.now() - STAGING_MAX_AGE_MS)));
        },
      },
    ],
  ];
}

/** What one `ucledger sync files|usage` pass did: the runs, and the refusals of projects whose stream was held. */
export interface ManualSync {
  summaries: RunSummary[];
  held: string[];
}

export type ManualStream = { stream: "files"; lanes: FilesLane[] } | { stream: "usage" };

/**
 * One pass of a stream by hand, for each project: each takes the stream's
 * claim like a scheduled run, so it never overlaps one; a project whose stream
 * is held is not synced and its holder named in `held`. Shared by
 * `ucledger sync` and the server that runs it for a CLI (src/api/cli-bridge.ts).
 */
export async function runManualSync(
  runtime: Pick<Runtime, "database" | "logger">,
  streams: Streams,
  input: ManualStream & { projectKeys: string[]; holder: string; onPage?: (projectKey: string, progress: PageProgress) => void; onProjectDone?: (projectKey: string) => void },
): Promise<ManualSync> {
  const summaries: RunSummary[] = [];
  const held: string[] = [];
  const name = `ucledger sync ${input.stream}`;
  for (const projectKey of input.projectKeys) {
    const claim = await claimManualRun(runtime.database.db, runtime.logger, { projectKey, stream: input.stream, holder: input.holder });
    if (claim.kind === "refused") {
      held.push(claim.message);
      continue;
    }
    try {
      const options = (lease: { fence: RunOptions["fence"]; signal: AbortSignal }) => ({ ...lease, by: input.holder, logger: runtime.logger });
      summaries.push(
        ...(input.stream === "files"
          ? await claim.run(
              (lease) => streams.files(projectKey, input.lanes, { ...options(lease), onPage: (p) => input.onPage?.(projectKey, p) }),
              (runs) => failureOf(name, runs),
            )
          : [await claim.run((lease) => streams.usage(projectKey, options(lease)), (run) => failureOf(name, [run]))]),
      );
    } finally {
      input.onProjectDone?.(projectKey);
    }
  }
  return { summaries, held };
}
