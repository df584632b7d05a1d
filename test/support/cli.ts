import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

export const CLI = fileURLToPath(new URL("../../bin/ucledger.js", import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `ucledger …` as a real child process with only the environment given (plus PATH). */
export function spawnCli(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "silent", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const done = new Promise<CliResult>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return spawnCli(args, env).done;
}

/** The environment of a CLI run against a sandbox project: its keys, and the server database or a PGlite data directory. */
export function cliEnv(
  sandbox: { publicKey: string; secretKey: string; url: string },
  target: { databaseUrl: string } | { dataDir: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    UPLOADCARE_PUBLIC_KEY: sandbox.publicKey,
    UPLOADCARE_SECRET_KEY: sandbox.secretKey,
    UPLOADCARE_API_BASE: sandbox.url,
    ...("databaseUrl" in target ? { DATABASE_URL: target.databaseUrl } : { UCLEDGER_DATA_DIR: target.dataDir }),
    ...extra,
  };
}
