import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** `npm start` as a child process: the whole server, as a user runs it. */

const ENTRY = fileURLToPath(new URL("../../src/index.ts", import.meta.url));

export function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", ENTRY], {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

export async function waitForHealth(port: number, timeoutMs: number): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return res.json();
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`no /healthz on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A port unlikely to be taken, for one server of one test file. */
export const randomPort = () => 30_000 + Math.floor(Math.random() * 20_000);
