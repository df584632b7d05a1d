import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import { bootstrap, type Runtime } from "./bootstrap.ts";
import { createApp } from "./api/app.ts";
import { VERSION } from "./version.ts";
import { reportStartupFailure } from "./startup-failure.ts";
import { createUploadcareClient } from "./sync/uploadcare/create-client.ts";
import { syncFiles } from "./sync/files/sync-files.ts";
import { createAccessLog, type AccessLog } from "./api/access-log.ts";
import { createSyncRunner } from "./api/sync-runner.ts";
import { rotateToken } from "./db/queries/tokens.ts";

/** How long shutdown waits for in-flight requests before closing connections. */
const DRAIN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  const runtime = await bootstrap();
  const { env, logger, database } = runtime;
  const accessLog = createAccessLog({ db: database.db, logger });
  // The API starts runs through these jobs; the usage stream joins here once src/sync/usage/ exports its run function.
  const sync = createSyncRunner({
    logger,
    projects: runtime.projects.map((p) => p.publicKey),
    streams: {
      files: (projectKey, { full }) => {
        const project = runtime.projects.find((p) => p.publicKey === projectKey)!;
        const client = createUploadcareClient({ db: database.db, logger, project });
        return syncFiles({ db: database.db, client, logger, now: () => new Date() }, { full });
      },
    },
  });
  const app = createApp({ database, logger, version: VERSION, projects: runtime.projects, sync, accessLog });

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

  installShutdown(server, runtime, accessLog);
  if (runtime.sandbox) await printDemoToken(runtime, port);
  if (runtime.sandbox) void syncDemoProject(runtime);
}

/**
 * Demo mode fills the ledger at once, so a newcomer sees files, events and runs
 * without waiting for a schedule. Failures are logged by the run record.
 */
async function syncDemoProject(runtime: Runtime): Promise<void> {
  for (const project of runtime.projects) {
    const client = createUploadcareClient({ db: runtime.database.db, logger: runtime.logger, project });
    await syncFiles({ db: runtime.database.db, client, logger: runtime.logger, now: () => new Date() }, { full: true }).catch(
      (err: unknown) => runtime.logger.error({ err: (err as Error).message }, "demo sync failed"),
    );
  }
}

/**
 * Demo mode prints an admin token. Only hashes are stored, so the token cannot
 * be shown again: each start revokes the previous `demo-admin` and makes a new one.
 */
async function printDemoToken(runtime: Runtime, port: number): Promise<void> {
  const demo = await rotateToken(runtime.database.db, { name: "demo-admin", role: "admin", createdBy: "ucledger:demo", now: new Date() });
  process.stdout.write(
    `\ndemo admin token (a new one at every start): ${demo.token}\n` +
      `  try: curl -H "Authorization: Bearer ${demo.token}" http://localhost:${port}/v1/files\n  reference: http://localhost:${port}/docs\n\n`,
  );
}

function installShutdown(server: Server, runtime: Runtime, accessLog: AccessLog): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    runtime.logger.info({ signal }, "shutting down: draining requests");
    const drained = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), DRAIN_TIMEOUT_MS);
    await drained;
    clearTimeout(timer);
    await accessLog.flush();
    await runtime.close();
    runtime.logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch(reportStartupFailure);
