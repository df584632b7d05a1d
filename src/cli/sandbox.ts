import { parseArgs } from "node:util";
import { startSandbox, type FaultConfig } from "../sandbox/index.ts";

// `ucledger sandbox`: serve a local Uploadcare (REST API v0.7 + Project API
// usage) on loopback until SIGINT/SIGTERM.

const USAGE =
  "usage: ucledger sandbox [--port 4010] [--files 1000] [--seed 42] [--json] " +
  "[--latency-ms N] [--error-rate R] [--throttle-rate R] [--retry-after-s N] [--truncate-rate R]";

export interface SandboxCommandIo {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Stops the sandbox like a signal would (used by tests). */
  signal?: AbortSignal;
}

type Flag = { name: string; min: number; max: number; integer: boolean };

const NUMERIC: Record<string, Flag> = {
  port: { name: "--port", min: 0, max: 65535, integer: true },
  files: { name: "--files", min: 0, max: 5_000_000, integer: true },
  seed: { name: "--seed", min: 0, max: 2 ** 31 - 1, integer: true },
  "latency-ms": { name: "--latency-ms", min: 0, max: 600_000, integer: true },
  "error-rate": { name: "--error-rate", min: 0, max: 1, integer: false },
  "throttle-rate": { name: "--throttle-rate", min: 0, max: 1, integer: false },
  "retry-after-s": { name: "--retry-after-s", min: 0, max: 3600, integer: true },
  "truncate-rate": { name: "--truncate-rate", min: 0, max: 1, integer: false },
};

export async function sandboxCommand(argv: string[], io: SandboxCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = io.stderr ?? ((t: string) => void process.stderr.write(t));
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, { type: "string" as const }]));
    ({ values } = parseArgs({ args: argv, options: { ...options, json: { type: "boolean" } }, allowPositionals: false, strict: true }));
  } catch (e) {
    // parseArgs names the offending flag in its message.
    err(`ucledger sandbox: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }

  const numbers: Record<string, number> = {};
  for (const [key, flag] of Object.entries(NUMERIC)) {
    const raw = values[key];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n) || n < flag.min || n > flag.max || (flag.integer && !Number.isInteger(n))) {
      err(`ucledger sandbox: ${flag.name} must be ${flag.integer ? "an integer" : "a number"} between ${flag.min} and ${flag.max}, got '${String(raw)}'\n`);
      return 2;
    }
    numbers[key] = n;
  }

  const faults: Partial<FaultConfig> = {};
  if (numbers["latency-ms"] !== undefined) faults.latencyMs = numbers["latency-ms"];
  if (numbers["error-rate"] !== undefined) faults.errorRate = numbers["error-rate"];
  if (numbers["throttle-rate"] !== undefined) faults.throttleRate = numbers["throttle-rate"];
  if (numbers["retry-after-s"] !== undefined) faults.retryAfterS = numbers["retry-after-s"];
  if (numbers["truncate-rate"] !== undefined) faults.truncateRate = numbers["truncate-rate"];

  const files = numbers["files"] ?? 1000;
  const seed = numbers["seed"] ?? 42;
  let sandbox;
  try {
    sandbox = await startSandbox({ port: numbers["port"] ?? 4010, host: "127.0.0.1", files, seed, faults });
  } catch (e) {
    err(`ucledger sandbox: cannot start: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }

  // Listen for the stop signal before printing the keys: whoever reads them may signal at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      io.signal?.removeEventListener("abort", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener("abort", stop);
  });

  const { url, publicKey, secretKey, projectApiToken, webhookSecret } = sandbox;
  if (values["json"]) {
    out(`${JSON.stringify({ url, publicKey, secretKey, projectApiToken, webhookSecret })}\n`);
  } else {
    out(
      [
        `Uploadcare sandbox listening on ${url} (${files} files, seed ${seed})`,
        `  base URL (REST v0.7 and Project API): ${url}`,
        `  public key:             ${publicKey}`,
        `  secret key:             ${secretKey}`,
        `  Project API token:      ${projectApiToken}`,
        `  webhook signing secret: ${webhookSecret}`,
        `  control API:            ${url}/__sandbox/`,
        "Press Ctrl+C to stop.",
        "",
      ].join("\n"),
    );
  }

  await stopped;
  await sandbox.close();
  return 0;
}
