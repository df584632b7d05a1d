import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ENTRY = fileURLToPath(new URL("../src/index.ts", import.meta.url));

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", ENTRY], {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    cwd: fileURLToPath(new URL("..", import.meta.url)),
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

/**
 * The promise is /healthz within 20 s of `npm start` on an idle machine; tests run
 * beside other test files on two cores, so they allow more before calling it broken.
 */
const START_BUDGET_MS = 45_000;

async function waitForHealth(port: number, timeoutMs: number): Promise<unknown> {
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

describe("npm start", () => {
  it("serves /healthz in demo mode, refuses a second instance on the same data dir, and exits 0 on SIGINT", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-start-"));
    const port = 30_000 + Math.floor(Math.random() * 20_000);
    const first = start({ UCLEDGER_DATA_DIR: dataDir, PORT: String(port) });
    try {
      expect(await waitForHealth(port, START_BUDGET_MS)).toEqual({ status: "ok", database: "pglite", version: expect.any(String) });
      expect(first.output().stdout).toContain("running against the built-in sandbox");

      const second = start({ UCLEDGER_DATA_DIR: dataDir, PORT: String(port + 1) });
      expect(await second.exited).toBe(2);
      expect(second.output().stderr).toMatch(/^ucledger: UCLEDGER_DATA_DIR: .* is in use by another ucledger process \(pid \d+/);
    } finally {
      first.child.kill("SIGINT");
    }
    expect(await first.exited).toBe(0);

    // The lock was released: the data dir opens again.
    const third = start({ UCLEDGER_DATA_DIR: dataDir, PORT: String(port + 2) });
    await waitForHealth(port + 2, START_BUDGET_MS);
    third.child.kill("SIGTERM");
    expect(await third.exited).toBe(0);
  }, 150_000);

  it.each([
    [{ DATABASE_URL: "nonsense" }, /^ucledger: DATABASE_URL: must be a postgres/],
    [{ PORT: "abc" }, /^ucledger: PORT: must be a whole number/],
  ])("exits 2 with a one-line explanation for %o", async (env, message) => {
    const run = start(env);
    expect(await run.exited).toBe(2);
    const { stderr } = run.output();
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(message);
  });
});
