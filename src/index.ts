import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import { bootstrap, type Runtime } from "./bootstrap.ts";
import { createApp } from "./api/app.ts";
import { VERSION } from "./version.ts";
import { reportStartupFailure } from "./startup-failure.ts";
import { anchorKeysOf, buildJobs, createStreams, runManualSync } from "./jobs.ts";
import { registerCliBridge } from "./api/cli-bridge.ts";
import { announceServer } from "./server-file.ts";
import { reportSettingsFrom } from "./reports/jobs.ts";
import { createMetrics } from "./observability/metrics.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { ensureApiRequestPartitions } from "./db/api-request-partitions.ts";
import { DEFAULT_PUBLIC_ROUTES } from "./api/auth.ts";
import { createAccessLog, type AccessLog } from "./api/access-log.ts";
import { createSyncRunner } from "./api/sync-runner.ts";
import { rotateToken } from "./db/queries/tokens.ts";
import { planLockFor } from "./decisions/lock.ts";
import { createUploadcareClient } from "./sync/uploadcare/create-client.ts";
import { ConflictError } from "./errors.ts";
import { abandonRunsWithoutLiveClaim } from "./db/queries/sync-runs.ts";
import { manualHolder } from "./scheduler/exclusion.ts";
import { loadEnv } from "./env.ts";
import { migrateDatabase } from "./db/client.ts";
import { readRolePrivileges, warnIfOverPrivileged } from "./db/privileges.ts";

/** How long shutdown waits for in-flight requests before closing connections. */
const DRAIN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  // The owner's URL migrates first; the service's pool then finds nothing pending and runs no DDL (docs/security.md).
  const { migrateDatabaseUrl } = loadEnv();
  if (migrateDatabaseUrl) await migrateDatabase(migrateDatabaseUrl);
  const runtime = await bootstrap();
  const { env, logger, database } = runtime;
  const accessLog = createAccessLog({ db: database.db, logger });
  const metrics = createMetrics(database.db);
  const streams = createStreams(runtime, metrics);
  // Validates every schedule before anything starts: a bad cron expression is a config error.
  const jobs = buildJobs(runtime, streams);
  await warnIfOverPrivileged(database, logger);
  // Partitions are DDL: a service role that does not own api_requests leaves them to the owner's `ucledger db maintain`.
  if ((await readRolePrivileges(database.db)).ownsApiRequests) await ensureApiRequestPartitions(database.db, new Date());
  else logger.info("api_requests partitions are left to the owner: run `ucledger db maintain` as the owner at least monthly (docs/security.md)");
  // Runs a killed process left `running` would read as going forever; those no live claim covers are closed now.
  const ghosts = await abandonRunsWithoutLiveClaim(database.db, `ucledger ${VERSION} pid ${process.pid}`);
  if (ghosts.length > 0) logger.warn({ runs: ghosts }, `closed ${ghosts.length} sync run(s) a stopped process left running, as abandoned`);
  // Runs started through the API take their stream's claim in the route; here they run under it.
  const apiHolder = manualHolder("api");
  const sync = createSyncRunner({
    logger,
    projects: runtime.projects.map((p) => p.publicKey),
    streams: {
      files: (projectKey, { full }, held) =>
        streams.files(projectKey, full ? ["webhooks", "new", "reconcile"] : ["webhooks", "new"], { ...held, by: apiHolder }),
      usage: (projectKey, _options, held) => streams.usage(projectKey, { ...held, by: apiHolder }),
    },
  });
  // Plans are applied with the same recorded clients the sync uses, one per configured project.
  const decisions = {
    clientFor(projectKey: string) {
      const project = runtime.projects.find((p) => p.publicKey === projectKey);
      if (!project) throw new ConflictError(`project ${projectKey} is not configured on this server: its plans cannot be applied here`);
      return createUploadcareClient({
        db: database.db,
        logger,
        project,
        onRequest: metrics.observeUploadcareRequest,
      });
    },
    lock: planLockFor(database),
    // Hold key, recent-upload window and halting limits: plans may only tighten them.
    protection: env.protection,
    approvals: env.approvals,
  };
  const auditPublicKeys = [...anchorKeysOf(runtime, { createDemoKey: true }).publicKeys.values()].map((key) => key.export({ format: "pem", type: "spki" }).toString());
  const reportSettings = reportSettingsFrom({ timezone: env.schedules.timezone, publicUrl: env.publicUrl, mail: env.mail });
  const app = createApp({
    database,
    decisions,
    logger,
    version: VERSION,
    projects: runtime.projects,
    sync,
    accessLog,
    metrics,
    timezone: env.schedules.timezone,
    behindProxy: env.behindProxy,
    auditPublicKeys,
    references: env.references,
    reportMail: reportSettings.mail,
    publicRoutes: env.metricsPublic ? DEFAULT_PUBLIC_ROUTES : DEFAULT_PUBLIC_ROUTES.filter((r) => r !== "GET /metrics"),
  });
  // What `ucledger` asks of this server when it holds the data directory (src/cli/remote.ts).
  registerCliBridge(app, {
    db: database.db,
    logger,
    projects: runtime.projects.map((p) => p.publicKey),
    sync: ({ stream, projectKeys, full, onPage }) =>
      runManualSync(runtime, streams, {
        ...(stream === "files" ? { stream, lanes: full ? ["webhooks", "new", "reconcile"] : ["webhooks", "new"] } : { stream }),
        projectKeys,
        holder: manualHolder("cli"),
        onPage,
      }),
    auditPublicKeys,
    reports: { timezone: env.schedules.timezone, publicUrl: env.publicUrl, mail: reportSettings.mail },
  });

  const server = serve({ fetch: app.fetch, port: env.port, hostname: "0.0.0.0" }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  }).catch(async (err) => {
    await runtime.close();
    throw err;
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : env.port;
  logger.info({ port, database: database.kind, projects: runtime.projects.map((p) => p.publicKey) }, `ucledger ${VERSION} listening on http://localhost:${port}`);
  // Where the CLI finds this server (and, on PGlite, a token to act through it): the data directory.
  const announced = await announceServer({ env, db: database.db, port, embedded: database.kind === "pglite" });

  const scheduler = env.schedules.enabled
    ? new Scheduler({ db: database.db, logger: logger.child({ module: "scheduler" }), onEvent: (event, job) => metrics.schedulerEvents.inc({ job, event }) })
    : undefined;
  const shutdown = installShutdown(server, runtime, accessLog, scheduler, announced.withdraw);
  if (runtime.sandbox) await printDemoToken(runtime, port);
  // On start the scheduler also runs each job's latest missed fire once, which fills a new ledger at once.
  if (scheduler) {
    // A signal during the catch-up closes the database under it: that is a stop, not a start-up failure.
    await scheduler.start(jobs).catch((err: unknown) => {
      if (!shutdown.stopping()) throw err;
    });
  }
  else logger.warn("UCLEDGER_SCHEDULER=off: nothing runs on a schedule in this instance");
}

/**
 * Demo mode prints an admin token. Only hashes are stored, so the token cannot
 * be shown again: each start revokes the previous `demo-admin` and makes a new one.
 */
async function printDemoToken(runtime: Runtime, port: number): Promise<void> {
  const demo = await rotateToken(runtime.database.db, { name: "demo-admin", role: "admin", createdBy: "ucledger:demo", now: new Date() });
  process.stdout.write(
    `\ndemo admin token (a new one at every start): ${demo.token}\n` +
      `  dashboard: http://localhost:${port}/dashboard (sign in with the token)\n` +
      `  try: curl -H "Authorization: Bearer ${demo.token}" http://localhost:${port}/v1/files\n  reference: http://localhost:${port}/docs\n\n`,
  );
}

function installShutdown(
  server: Server,
  runtime: Runtime,
  accessLog: AccessLog,
  scheduler: Scheduler | undefined,
  withdraw: () => void,
): { stopping(): boolean } {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    runtime.logger.info({ signal }, "shutting down: draining requests");
    withdraw();
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
    await drained;
    clearTimeout(timer);
    // A run still going after this is abandoned: its lease expires and another instance takes it over.
    await Promise.race([scheduler?.stop(), new Promise((r) => setTimeout(r, DRAIN_TIMEOUT_MS))]);
    await accessLog.flush();
    await runtime.close();
    runtime.logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  return { stopping: () => stopping };
}

main().catch(reportStartupFailure);
