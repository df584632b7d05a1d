import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { backends, createTestDatabase } from "../support/db.ts";
import { runCli } from "../support/cli.ts";
import { randomPort, startServer, waitForHealth } from "../support/server.ts";

const START_BUDGET_MS = 120_000;

/**
 * `npm start` in one terminal, `npx ucledger …` in another: on PGlite the
 * server holds the data directory and the CLI works through its API; on a
 * PostgreSQL server the CLI opens the database itself. Either way the five
 * commands of the quick start succeed, with the exit codes they have alone.
 */
describe.each(backends)("the CLI beside a running server on %s", (kind) => {
  it("syncs, verifies, creates a policy, proposes a plan and writes a report while `npm start` runs", { timeout: 600_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-beside-"));
    const outDir = mkdtempSync(join(tmpdir(), "ucl-beside-out-"));
    const database = kind === "postgres" ? await createTestDatabase("postgres") : undefined;
    const env: Record<string, string> = { UCLEDGER_DATA_DIR: dataDir, ...(database?.url ? { DATABASE_URL: database.url } : {}) };
    const port = randomPort();
    const server = startServer({ ...env, PORT: String(port) });
    try {
      await waitForHealth(port, START_BUDGET_MS);
      // On PGlite the server says where it is, and keeps a token for the CLI.
      expect(existsSync(join(dataDir, "server.json"))).toBe(true);
      expect(existsSync(join(dataDir, "cli-token"))).toBe(kind === "pglite");

      // The server's own start-up sync may hold the stream a while: that is exit 3 (held), as without the server.
      let sync = await runCli(["sync", "files", "--json"], env);
      for (let i = 0; i < 60 && sync.code === 3; i++) {
        expect(sync.stderr).toMatch(/a files sync is already running/);
        await new Promise((r) => setTimeout(r, 2000));
        sync = await runCli(["sync", "files", "--json"], env);
      }
      expect(sync.code, sync.stderr).toBe(0);
      expect(JSON.parse(sync.stdout)).toMatchObject({ stream: "files", status: "ok" });

      const verify = await runCli(["audit", "verify"], env);
      expect(verify.code, verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/chain intact, \d+ events/);

      const none = await runCli(["policy", "list"], env);
      expect(none.code, none.stderr).toBe(0);
      expect(none.stdout).toMatch(/^no policies yet: see `ucledger policy templates`/);

      const usage = await runCli(["sync", "usage", "--json"], env);
      expect([0, 3], usage.stderr).toContain(usage.code);
      if (usage.code === 0) expect(JSON.parse(usage.stdout)).toMatchObject({ stream: "usage", status: "ok" });

      const policy = await runCli(["policy", "create", "--name", "infected", "--template", "delete-infected"], env);
      expect(policy.code, policy.stderr).toBe(0);
      expect(policy.stdout).toMatch(/^created policy [0-9a-f-]{36} {2}\w+ {2}infected \(v1\): delete where /);
      const taken = await runCli(["policy", "create", "--name", "infected", "--template", "delete-infected"], env);
      expect(taken.code).toBe(1);
      expect(taken.stderr).toMatch(/^ucledger policy: /);

      const preview = await runCli(["plan", "propose", "--policy", "infected"], env);
      expect(preview.code, preview.stderr).toBe(0);
      expect(preview.stdout).toMatch(/^dry run: policy infected v1 would delete \d+ files/);
      const plan = await runCli(["plan", "propose", "--policy", "infected", "--yes", "--json"], env);
      expect(plan.code, plan.stderr).toBe(0);
      expect(JSON.parse(plan.stdout)).toMatchObject({ status: "proposed", action: "delete" });

      const report = await runCli(["report", "weekly", "--out", outDir], env);
      expect(report.code, report.stderr).toBe(0);
      // The link names the server's real port, not a guess from the CLI's own PORT (3000 here).
      expect(report.stdout).toContain(`http://localhost:${port}/v1/reports/`);
      const [folder] = readdirSync(outDir);
      expect(readdirSync(join(outDir, folder!)).sort()).toEqual(expect.arrayContaining(["report.csv", "report.html", "report.json", "report.txt"]));

      // A usage error is exit 2, as without the server.
      const bad = await runCli(["sync", "files", "--project", "nope"], env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--project: nope is not a configured project/);
      if (kind === "pglite") {
        // A command that does not work through the server says so.
        const tokens = await runCli(["token", "list"], env);
        expect(tokens.code).toBe(2);
        expect(tokens.stderr).toMatch(/holds the data directory, and this command does not work through it: stop the server/);
      }
    } finally {
      server.child.kill("SIGINT");
      await server.exited;
      await database?.close();
      rmSync(outDir, { recursive: true, force: true });
    }
    // Stopped, the server takes back what it said; the CLI then works alone, with the same usage error.
    try {
      expect(existsSync(join(dataDir, "server.json"))).toBe(false);
      if (kind === "pglite") {
        const bad = await runCli(["sync", "files", "--project", "nope"], env);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/--project: nope is not a configured project/);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
