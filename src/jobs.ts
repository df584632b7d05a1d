import type { Runtime } from "./bootstrap.ts";
import { dropExpiredApiRequests, ensureApiRequestPartitions } from "./db/api-request-partitions.ts";
import type { Metrics } from "./observability/metrics.ts";
import type { JobDefinition, JobRunContext } from "./scheduler/scheduler.ts";
import { assertSchedule } from "./scheduler/slots.ts";
import { syncFiles, type FilesLane } from "./sync/files/sync-files.ts";
import { createUploadcareClient } from "./sync/uploadcare/create-client.ts";
import { syncUsage } from "./sync/usage/sync-usage.ts";

/** Claims of deployment-wide jobs (not about one project) carry this key. */
export const DEPLOYMENT_KEY = "*";

/**
 * The jobs `npm start` schedules: which cron expression runs which `run*`
 * function. Nothing here decides how a job works, only when it runs.
 */
export function buildJobs(runtime: Runtime, metrics: Metrics): JobDefinition[] {
  const { env, database, logger } = runtime;
  const schedules = env.schedules;
  const projectKeys = runtime.projects.map((p) => p.publicKey);
  const clientFor = (projectKey: string) => {
    const project = runtime.projects.find((p) => p.publicKey === projectKey)!;
    return {
      project,
      client: createUploadcareClient({
        db: database.db,
        logger,
        project,
        onRequest: (r) => metrics.uploadcareRequests.inc({ project: r.projectKey, api: r.api, status: String(r.status ?? "none") }),
      }),
    };
  };
  const filesJob = (name: string, cron: string, lanes: FilesLane[]): JobDefinition => ({
    name,
    cron,
    timezone: "UTC",
    projectKeys,
    async run(ctx: JobRunContext) {
      const { client } = clientFor(ctx.projectKey);
      const summaries = await syncFiles({ db: database.db, client, logger: ctx.logger, now: () => new Date(), fence: ctx.fence }, { lanes });
      const failed = summaries.find((s) => s.status !== "ok");
      if (failed) throw new Error(`${name} ended ${failed.status}: ${failed.error}`);
    },
  });

  const jobs: JobDefinition[] = [
    filesJob("files.webhooks", schedules.webhooks, ["webhooks"]),
    filesJob("files.new", schedules.filesNew, ["new"]),
    filesJob("files.reconcile", schedules.reconcile, ["reconcile"]),
    {
      name: "usage.daily",
      cron: schedules.usage,
      timezone: "UTC",
      projectKeys,
      async run(ctx) {
        const { client, project } = clientFor(ctx.projectKey);
        const summary = await syncUsage({
          db: database.db,
          client,
          logger: ctx.logger,
          now: () => new Date(),
          backfillDays: env.usageBackfillDays,
          hasToken: Boolean(project.projectApiToken),
          fence: ctx.fence,
        });
        if (summary.status !== "ok" && summary.status !== "skipped") throw new Error(`usage ended ${summary.status}: ${summary.error}`);
      },
    },
    {
      name: "maintenance.api-requests",
      cron: "15 0 * * *",
      timezone: "UTC",
      projectKeys: [DEPLOYMENT_KEY],
      async run() {
        const now = new Date();
        await ensureApiRequestPartitions(database.db, now);
        await dropExpiredApiRequests(database.db, now, env.apiLogRetentionDays);
      },
    },
  ];
  for (const job of jobs) assertSchedule(`schedule of ${job.name}`, job.cron, job.timezone);
  return jobs;
}
