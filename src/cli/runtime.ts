import { userInfo } from "node:os";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { bootstrap, type ProjectContext, type Runtime } from "../bootstrap.ts";
import { loadEnv } from "../env.ts";
import { ConfigError } from "../errors.ts";
import { findRemoteServer, type RemoteServer } from "./remote.ts";

/** Parses flags; an unknown or malformed flag is a usage error (exit 2) naming it. */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T, command: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ConfigError(`${command}: ${(err as Error).message}`);
  }
}

/** Starts the shared runtime for a CLI command, logging to stderr so stdout stays the command's. */
export async function openCliRuntime(): Promise<Runtime> {
  return bootstrap({ logToStderr: true });
}

/**
 * A command that does not work through the running server says so, rather
 * than only that the data directory is locked.
 */
export function explainHeldDataDir(err: unknown): unknown {
  if (!(err instanceof ConfigError) || !err.message.includes("is in use by another ucledger process")) return err;
  const server = remoteServer();
  if (!server) return err;
  return new ConfigError(
    `the ucledger server at ${server.url} (pid ${server.pid}) holds the data directory, and this command does not work through it: ` +
      `stop the server to run it, or use the API (${server.url}/docs) or the dashboard. ` +
      "Through the server: sync files|usage, audit verify, policy list|create, plan propose, report weekly",
  );
}

/** The running server to work through (embedded PGlite held by `npm start`), if any. */
export function remoteServer(): RemoteServer | undefined {
  return findRemoteServer(loadEnv());
}

/** The projects a command acts on: all, or the one `--project` names. */
export function selectProjects(runtime: Runtime, projectKey: string | undefined): ProjectContext[] {
  if (!projectKey) return runtime.projects;
  const project = runtime.projects.find((p) => p.publicKey === projectKey);
  if (!project) {
    throw new ConfigError(`--project: ${projectKey} is not a configured project (configured: ${runtime.projects.map((p) => p.publicKey).join(", ")})`);
  }
  return [project];
}

/** The actor the audit trail names for commands run by hand. */
export function cliActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return "cli";
  }
}

/** Runs a command body with the runtime open, closing it whatever happens. */
export async function withRuntime(body: (runtime: Runtime) => Promise<number>): Promise<number> {
  const runtime = await openCliRuntime();
  try {
    return await body(runtime);
  } finally {
    await runtime.close();
  }
}
