import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";

/** The commands as a user runs them: a real `ucledger` process on its own embedded database. */
describe("ucledger analyst and ucledger export on PGlite", () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ucledger-analyst-cli-"));
    env = { UCLEDGER_DATA_DIR: join(dir, "data") };
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("prints the data dictionary", async () => {
    const result = await runCli(["analyst", "dictionary"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^### `dim_file`\n/);
    expect(result.stdout).toContain("| `storage_bytes_eod` | bigint |");
  });

  it("exports a view to a Parquet file and says how many rows", async () => {
    const out = join(dir, "projects.parquet");
    const result = await runCli(["export", "dim_project", "--format", "parquet", "--out", out], env);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`exported 0 rows of reporting.dim_project to ${out}\n`);
    const bytes = await readFile(out);
    expect(bytes.subarray(0, 4).toString()).toBe("PAR1");
    expect(bytes.subarray(-4).toString()).toBe("PAR1");
  });

  it("refreshes the daily rollup of every project", async () => {
    const result = await runCli(["analyst", "refresh"], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
  });

  it("says that logins need a PostgreSQL server, and exits 1", async () => {
    const result = await runCli(["analyst", "create-login", "--name", "metabase"], env);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^ucledger analyst: logins need a PostgreSQL server/);
  });

  it("answers a usage error with exit 2", async () => {
    const result = await runCli(["export", "dim_file"], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^usage: ucledger export VIEW --format csv\|parquet --out FILE/);
  });
});
