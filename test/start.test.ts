import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { randomPort, startServer as start, waitForHealth } from "./support/server.ts";

/**
 * The promise is /healthz within 20 s of `npm start` on an idle machine; tests run
 * beside other test files on two cores, so they allow more before calling it broken.
 */
const START_BUDGET_MS = 45_000;

describe("npm start", () => {
  it("serves /healthz in demo mode, refuses a second instance on the same data dir, and exits 0 on SIGINT", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-start-"));
    const port = randomPort();
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
