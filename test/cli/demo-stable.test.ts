import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { backends, createTestDatabase } from "../support/db.ts";
import { runCli } from "../support/cli.ts";

/** The chain's event count, as `audit verify` reports it: every event the ledger ever recorded. */
function events(stdout: string): number {
  const m = /chain intact, (\d+) events/.exec(stdout);
  if (!m) throw new Error(`no chain report in:\n${stdout}`);
  return Number(m[1]);
}

describe.each(backends)("the demo project on %s", (kind) => {
  it("is one stable upstream: two full syncs, each in its own process, record nothing the second time", { timeout: 400_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-demo-stable-"));
    const database = kind === "postgres" ? await createTestDatabase("postgres") : undefined;
    const env: Record<string, string> = { UCLEDGER_DATA_DIR: dataDir, ...(database?.url ? { DATABASE_URL: database.url } : {}) };
    try {
      // Each CLI run starts the demo upstream anew: the same files, times and URLs every time.
      const first = await runCli(["sync", "files", "--full", "--json"], env);
      expect(first.code, first.stderr).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({ status: "ok", inserted: 2000 });
      const afterFirst = await runCli(["audit", "verify"], env);
      expect(afterFirst.code, afterFirst.stderr).toBe(0);

      const second = await runCli(["sync", "files", "--full", "--json"], env);
      expect(second.code, second.stderr).toBe(0);
      expect(JSON.parse(second.stdout)).toMatchObject({ status: "ok", inserted: 0, changed: 0 });
      const afterSecond = await runCli(["audit", "verify"], env);
      expect(events(afterSecond.stdout)).toBe(events(afterFirst.stdout));
    } finally {
      await database?.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
