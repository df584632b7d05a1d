import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";

/** The local PostgreSQL server benchmarks create their throwaway databases on. */
export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export async function createBenchDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface SandboxProcess {
  url: string;
  publicKey: string;
  secretKey: string;
  projectApiToken: string;
  webhookSecret: string;
  child: ChildProcess;
}

/** Runs the sandbox in its own process, so the benchmark's memory figures are the sync's alone. */
export async function spawnSandbox(files: number, port: number, extraArgs: string[] = []): Promise<SandboxProcess> {
  const cli = fileURLToPath(new URL("../bin/ucledger.js", import.meta.url));
  const child = spawn(process.execPath, [cli, "sandbox", "--port", String(port), "--files", String(files), "--json", ...extraArgs], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (line.startsWith("{")) return { ...(JSON.parse(line) as Omit<SandboxProcess, "child">), child };
  }
  throw new Error("the sandbox exited before printing its keys");
}

/** Samples this process's RSS until stopped; returns the peak in MB. */
export function rssSampler(intervalMs = 25): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
      return Math.round(peak / 1024 / 1024);
    },
  };
}

/**
 * Child mode of the API benchmarks (`tsx bench/x.ts --serve URL`): serves the API
 * over an existing database on a free port and prints `listening PORT`, so the
 * load generator and the server measured do not share an event loop.
 */
export async function serveApiChild(url: string): Promise<void> {
  const { serve: listen } = await import("@hono/node-server");
  const { createApp } = await import("../src/api/app.ts");
  const { openDatabase } = await import("../src/db/client.ts");
  const { createLogger } = await import("../src/logger.ts");
  const database = await openDatabase({ url, migrate: false, maxConnections: 10 });
  const app = createApp({ database, logger: createLogger("warn", { stderr: true }), version: "bench", projects: [] });
  const server = listen({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  server.once("listening", () => {
    const address = server.address();
    process.stdout.write(`listening ${typeof address === "object" && address ? address.port : 0}\n`);
  });
}

/** Starts `script --serve URL` (see serveApiChild) and waits for the port it listens on. */
export async function startApiChild(script: string, url: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", script, "--serve", url], { stdio: ["ignore", "pipe", "inherit"] });
  for await (const line of createInterface({ input: child.stdout! })) {
    const match = /^listening (\d+)$/.exec(line);
    if (match) return { child, port: Number(match[1]) };
  }
  throw new Error("the API server exited before listening");
}
