import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Runtime } from "../../src/bootstrap.ts";
import { openDatabase } from "../../src/db/client.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { parseEnv } from "../../src/env.ts";
import { ConfigError } from "../../src/errors.ts";
import { buildJobs, type Streams } from "../../src/jobs.ts";
import { replaceReferences } from "../../src/sync/references/replace.ts";
import { runCli } from "../support/cli.ts";
import { stream } from "./helpers.ts";

function configFile(body: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), "ucl-refs-")), "config.json");
  writeFileSync(path, JSON.stringify(body));
  return path;
}

const projects = [{ publicKey: "kp", secretKey: "s" }];
const pull = { name: "app-db", url: "postgres://reader:pw@db.internal/app", query: "select 1 as ref, 2 as value", schedule: "*/10 * * * *" };

describe("reference jobs", () => {
  const runtimeFor = (env: ReturnType<typeof parseEnv>) =>
    ({ env, database: {} as Runtime["database"], logger: {} as Runtime["logger"], projects: [], sandbox: undefined, close: async () => {} }) as unknown as Runtime;

  it("schedules each pull source for its project, and sweeps abandoned uploads daily", () => {
    const env = parseEnv({ UCLEDGER_CONFIG: configFile({ projects, referenceSources: [pull, { name: "cms" }] }) });
    const jobs = buildJobs(runtimeFor(env), {} as Streams);
    const pulls = jobs.filter((j) => j.name.startsWith("references."));
    expect(pulls.map((j) => [j.name, j.cron, j.projectKeys])).toEqual([["references.pull.kp.app-db", "*/10 * * * *", ["kp"]]]);
    expect(jobs.map((j) => j.name)).toContain("maintenance.references");
  });

  it("refuses a bad schedule, naming where it is", () => {
    const env = parseEnv({ UCLEDGER_CONFIG: configFile({ projects, referenceSources: [{ ...pull, schedule: "every hour" }] }) });
    expect(() => buildJobs(runtimeFor(env), {} as Streams)).toThrow(ConfigError);
    expect(() => buildJobs(runtimeFor(env), {} as Streams)).toThrow(/^UCLEDGER_CONFIG referenceSources\.0\.schedule: 'every hour' is not a valid cron expression/);
  });
});

describe("ucledger references", () => {
  it("shows the sources' status, says when there is none, and refuses unknown sources and bad usage", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "ucl-refs-cli-"));
    const env = { UCLEDGER_DATA_DIR: dataDir, UCLEDGER_CONFIG: configFile({ projects, referenceSources: [{ name: "erp", url: pull.url, query: pull.query }] }) };

    const empty = await runCli(["references", "status"], env);
    expect(empty.stdout).toBe("kp erp (pull): configured, never reported — STALE\n");

    const database = await openDatabase({ dataDir });
    try {
      await registerProjects(database.db, [{ projectKey: "kp", name: "kp", isDemo: false }]);
      await replaceReferences(
        { db: database.db, now: () => new Date(), settings: { maxDropShare: 0.1, cdnDomains: [], sources: [] } },
        { projectKey: "kp", source: "app-db", kind: "push", references: stream([{ ref: "a", value: "00000000-0000-4000-8000-000000000001" }]), force: false, actor: "test" },
      );
    } finally {
      await database.close();
    }
    const status = await runCli(["references", "status"], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^kp app-db \(push\): 1 references, last reported \S+Z, last replace applied at \S+ \(\+1 −0\)\nkp erp \(pull\): configured, never reported — STALE\n$/);
    const json = await runCli(["references", "status", "--json"], env);
    expect(JSON.parse(json.stdout.split("\n")[0]!)).toMatchObject({ source: "app-db", refs: 1, stale: false });
    expect(json.stdout).not.toContain("pw@");

    const unknown = await runCli(["references", "pull", "nope"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("references pull: no configured source nope");
    expect((await runCli(["references"], env)).code).toBe(2);
    // Five CLI processes, each opening PGlite: a minute is not enough beside other test files on two cores.
  }, 180_000);
});
