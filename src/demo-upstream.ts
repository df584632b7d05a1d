import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { takePidLock, type DataDirLock } from "./db/data-dir-lock.ts";
import { ConfigError } from "./errors.ts";
import { startSandbox, type Sandbox } from "./sandbox/index.ts";

/** How many files the demo project starts with. */
export const DEMO_FILES = 2_000;
export const DEMO_SEED = 42;

/** The demo's Uploadcare: keys and the origin both APIs answer on. */
export interface DemoUpstream {
  url: string;
  publicKey: string;
  secretKey: string;
  projectApiToken: string;
  webhookSecret: string;
  /** The sandbox this process serves; undefined when another process serves the demo and this one uses it. */
  own: Sandbox | undefined;
  close(): Promise<void>;
}

/** Written once and kept: what makes every start of the demo the same upstream. */
interface DemoSettings {
  /** Generated history ends here (ms): the same 2,000 files at every start. */
  epochMs: number;
  /** The files' `url` origin, the first start's: it must not change with the port. */
  fileUrlBase: string;
  /** The port the demo last served on; the next start tries it first. */
  port: number;
  /** The process serving it now and where, for other processes on the same data directory. */
  pid: number;
  url: string;
}

const SETTINGS_FILE = "demo-upstream.json";
const STATE_FILE = "demo-upstream-state.json";
const LOCK_FILE = "demo-upstream.lock";
/** How long a process waits for the serving process's sandbox to answer. */
const PROBE_TIMEOUT_MS = 3_000;

function readSettings(dataDir: string): Partial<DemoSettings> {
  try {
    return JSON.parse(readFileSync(join(dataDir, SETTINGS_FILE), "utf8")) as Partial<DemoSettings>;
  } catch {
    return {};
  }
}

/**
 * The demo project's one upstream, kept in the data directory: a sandbox on a
 * fixed epoch whose state (uploads, stores, deletes, metadata) is saved there,
 * so the server and every CLI command, across restarts, see the same files and
 * a sync records only what really changed. One process serves it (a pid lock);
 * another process on the same data directory (possible with DATABASE_URL) uses
 * that one instead of starting its own.
 */
export async function openDemoUpstream(options: { dataDir: string; now?: () => Date }): Promise<DemoUpstream> {
  const { dataDir } = options;
  mkdirSync(dataDir, { recursive: true });
  const taken = takePidLock(join(dataDir, LOCK_FILE));
  if ("holder" in taken) return useServed(dataDir, taken.holder);
  try {
    return await serve(dataDir, taken.lock, options.now ?? (() => new Date()));
  } catch (err) {
    taken.lock.release();
    throw err;
  }
}

async function serve(dataDir: string, lock: DataDirLock, now: () => Date): Promise<DemoUpstream> {
  const saved = readSettings(dataDir);
  const epochMs = typeof saved.epochMs === "number" ? saved.epochMs : now().getTime();
  const common = { files: DEMO_FILES, seed: DEMO_SEED, epochMs, stateFile: join(dataDir, STATE_FILE), fileUrlBase: saved.fileUrlBase };
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({ ...common, port: saved.port ?? 0 });
  } catch (err) {
    // The port of the last start is taken: any port will do, the files' url keeps the first origin.
    if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    sandbox = await startSandbox({ ...common, port: 0 });
  }
  const port = Number(new URL(sandbox.url).port);
  const settings: DemoSettings = { epochMs, fileUrlBase: saved.fileUrlBase ?? sandbox.url, port, pid: process.pid, url: sandbox.url };
  writeFileSync(join(dataDir, SETTINGS_FILE), `${JSON.stringify(settings, null, 2)}\n`);
  return {
    url: sandbox.url,
    publicKey: sandbox.publicKey,
    secretKey: sandbox.secretKey,
    projectApiToken: sandbox.projectApiToken,
    webhookSecret: sandbox.webhookSecret,
    own: sandbox,
    async close() {
      await sandbox.close();
      lock.release();
    },
  };
}

async function useServed(dataDir: string, holder: number): Promise<DemoUpstream> {
  const { url, pid } = readSettings(dataDir);
  const refuse = (why: string) =>
    new ConfigError(`the demo project is served by another ucledger process (pid ${holder}) but ${why}; stop it, or remove ${join(dataDir, LOCK_FILE)} if no such process runs`);
  if (!url || pid !== holder) throw refuse("it has not said where yet");
  let info: { publicKey?: string; secretKey?: string; projectApiToken?: string; webhookSecret?: string };
  try {
    const res = await fetch(`${url}/__sandbox/`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    info = (await res.json()) as typeof info;
  } catch {
    throw refuse(`does not answer at ${url}`);
  }
  if (!info.publicKey || !info.secretKey || !info.projectApiToken || !info.webhookSecret) throw refuse(`${url} is not a sandbox`);
  return {
    url,
    publicKey: info.publicKey,
    secretKey: info.secretKey,
    projectApiToken: info.projectApiToken,
    webhookSecret: info.webhookSecret,
    own: undefined,
    close: async () => {},
  };
}
