import { loadEnv, apiBaseFor, type Env, type ProjectConfig } from "./env.ts";
import { createLogger, type Logger } from "./logger.ts";
import { openDatabase, type Database } from "./db/client.ts";
import { registerProjects } from "./db/queries/projects.ts";
import { startSandbox, type Sandbox } from "./sandbox/index.ts";

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
  /** The in-process sandbox of demo mode, when no Uploadcare keys are configured. */
  sandbox: Sandbox | undefined;
  close(): Promise<void>;
}

/** How many files the demo project starts with. */
export const DEMO_FILES = 2_000;
export const DEMO_SEED = 42;

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
  let sandbox: Sandbox | undefined;
  let projects: ProjectContext[];
  if (env.projects.length === 0) {
    try {
      sandbox = await startSandbox({ files: DEMO_FILES, seed: DEMO_SEED });
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
