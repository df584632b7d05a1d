import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ENTRY = fileURLToPath(new URL("../../src/index.ts", import.meta.url));

function start(dataDir: string, port: number) {
  const child = spawn(process.execPath, ["--import", "tsx", ENTRY], {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", UCLEDGER_DATA_DIR: dataDir, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
  });
  let stdout = "";
  child.stdout.on("data", (c) => (stdout += c));
  let stderr = "";
  child.stderr.on("data", (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

async function demoToken(run: ReturnType<typeof start>): Promise<string> {
  // Start-up (PGlite, migrations, the demo sandbox) takes seconds, more on a busy machine.
  for (let i = 0; i < 400; i++) {
    const match = /demo admin token \(a new one at every start\): (ucl_[A-Za-z0-9_-]+)/.exec(run.stdout());
    if (match) return match[1]!;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no demo token printed:\n${run.stdout()}`);
}

/** Waits for the start-up and API-started runs to finish, so stopping tests shutdown alone. */
async function settled(port: number, token: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/v1/sync/runs?status=running`, { headers: { Authorization: `Bearer ${token}` } });
    if (((await res.json()) as { data: unknown[] }).data.length === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("demo mode", () => {
  it("prints a working admin token at start and never logs it", { timeout: 150_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-demo-"));
    const port = 30_000 + Math.floor(Math.random() * 20_000);
    try {
      // Each start replaces the previous demo-admin (rotateToken, tested in tokens.test.ts).
      const first = start(dataDir, port);
      try {
        const token = await demoToken(first);
        const auth = { Authorization: `Bearer ${token}` };
        const tokens = await fetch(`http://127.0.0.1:${port}/v1/tokens`, { headers: auth });
        expect(tokens.status).toBe(200);
        expect(((await tokens.json()) as { data: { name: string; role: string }[] }).data).toContainEqual(expect.objectContaining({ name: "demo-admin", role: "admin" }));
        expect((await fetch(`http://127.0.0.1:${port}/v1/files`)).status).toBe(401);
        // The demo sync starts at boot; this one starts now, or waits its turn with 409.
        const started = await fetch(`http://127.0.0.1:${port}/v1/sync/files/run`, { method: "POST", headers: auth });
        expect([202, 409]).toContain(started.status);
        await settled(port, token);
        const jsonLogLines = first.stdout().split("\n").filter((l) => l.startsWith("{"));
        expect(jsonLogLines.length).toBeGreaterThan(0);
        expect(jsonLogLines.some((l) => l.includes(token))).toBe(false);
      } finally {
        first.child.kill("SIGINT");
      }
      expect(await first.exited, first.stderr()).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
