import { loadEnv, apiBaseFor, type Env, type ProjectConfig } from "./env.ts";
import { createLogger, type Logger } from "./logger.ts";
import { openDatabase, type Database } from "./db/client.ts";
import { registerProjects } from "./db/queries/projects.ts";
import { recordPricing } from "./db/queries/pricing-plans.ts";
import { openDemoUpstream, type DemoUpstream } from "./demo-upstream.ts";
export { DEMO_FILES, DEMO_SEED } from "./demo-upstream.ts";

/** A configured project with its API base resolved. */
export interface ProjectContext extends ProjectConfig {
  name: string;
  apiBase: string;
  isDemo: boolean;
}

export interface Runtime {
  env: Env;
  logger: Logger;
  database: Database;
  projects: ProjectContext[];
  /** Demo mode's upstream (a sandbox kept in the data directory), when no Uploadcare keys are configured. */
  sandbox: DemoUpstream | undefined;
  close(): Promise<void>;
}

export interface BootstrapOptions {
  /** CLI commands log to stderr so stdout stays theirs. */
  logToStderr?: boolean;
  /** Override the log level (CLI commands default to warn). */
  logLevel?: Env["logLevel"];
}

/**
 * The shared start of every entry point: configuration, logger, the demo sandbox
 * when no keys are configured, the database (migrated) and the project rows.
 */
export async function bootstrap(options: BootstrapOptions = {}): Promise<Runtime> {
  const env = loadEnv();
  const logger = createLogger(options.logLevel ?? env.logLevel, { stderr: options.logToStderr ?? false });
  // The database first: its lock file must refuse a second instance before anything else starts.
  const database = await openDatabase({ url: env.databaseUrl, dataDir: env.databaseUrl ? undefined : env.dataDir });
  let sandbox: DemoUpstream | undefined;
  let projects: ProjectContext[];
  if (env.projects.length === 0) {
    try {
      sandbox = await openDemoUpstream({ dataDir: env.dataDir });
    } catch (err) {
      await database.close();
      throw err;
    }
    logger.warn(
      { sandbox: sandbox.url, project: sandbox.publicKey },
      "no Uploadcare keys configured (UPLOADCARE_PUBLIC_KEY/UPLOADCARE_SECRET_KEY or UCLEDGER_CONFIG): running against the built-in sandbox with a demo project",
    );
    projects = [
      {
        publicKey: sandbox.publicKey,
        secretKey: sandbox.secretKey,
        projectApiToken: sandbox.projectApiToken,
        webhookSecret: sandbox.webhookSecret,
        apiBase: sandbox.url,
        name: "demo",
        isDemo: true,
      },
    ];
  } else {
    projects = env.projects.map((p) => ({ ...p, name: p.name ?? p.publicKey, apiBase: apiBaseFor(p, env), isDemo: false }));
  }

  await registerProjects(
    database.db,
    projects.map((p) => ({ projectKey: p.publicKey, name: p.name, isDemo: p.isDemo })),
  );
  // The plan in force, where the costs view can read it (a new generation only when it changed).
  await recordPricing(database.db, env.pricing, new Date());

  return {
    env,
    logger,
    database,
    projects,
    sandbox,
    async close() {
      await database.close();
      await sandbox?.close();
    },
  };
}
