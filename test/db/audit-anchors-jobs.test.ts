import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProjectContext, Runtime } from "../../src/bootstrap.ts";
import { generateAnchorKeyPem } from "../../src/db/audit/anchor-key.ts";
import { readAnchors } from "../../src/db/audit/anchors.ts";
import { appendEvents } from "../../src/db/audit/chain.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { parseEnv } from "../../src/env.ts";
import { buildJobs, createStreams } from "../../src/jobs.ts";
import { createLogger } from "../../src/logger.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";

const keys = generateAnchorKeyPem();

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: { level: number; msg: string }[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger("info", { destination }), lines };
}

describe.each(backends)("audit anchors from sync runs and the schedule on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: Sandbox;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    sandbox = await startSandbox({ files: 25, seed: 7 });
  });
  afterAll(async () => {
    await sandbox?.close();
    await database?.close();
  });

  function runtimeWith(vars: Record<string, string>, logger = createLogger("silent")): Runtime {
    const env = parseEnv({ UPLOADCARE_PUBLIC_KEY: sandbox.publicKey, UPLOADCARE_SECRET_KEY: sandbox.secretKey, UPLOADCARE_API_BASE: sandbox.url, ...vars });
    const project: ProjectContext = { ...env.projects[0]!, name: "anchored", apiBase: sandbox.url, isDemo: false };
    return { env, logger, database, projects: [project], sandbox: undefined, close: async () => {} };
  }
  const held = { fence: async () => {}, signal: new AbortController().signal, by: "test" };

  it("takes an anchor after a sync run and on its schedule, and says once when no key is configured", async () => {
    const projectKey = sandbox.publicKey;
    await registerProjects(database.db, [{ projectKey, name: "anchored", isDemo: false }]);

    const quiet = capturingLogger();
    const unkeyed = createStreams(runtimeWith({}, quiet.logger));
    await unkeyed.files(projectKey, ["new"], held);
    expect(await readAnchors(database.db, projectKey)).toEqual([]);
    expect(quiet.lines.filter((l) => l.msg.startsWith("UCLEDGER_AUDIT_KEY is not set: no audit anchors are taken"))).toHaveLength(1);

    const runtime = runtimeWith({ UCLEDGER_AUDIT_KEY: keys.privateKey, UCLEDGER_SCHEDULE_ANCHORS: "*/7 * * * *" });
    const streams = createStreams(runtime);
    await streams.files(projectKey, ["new"], held);
    const afterRun = await readAnchors(database.db, projectKey);
    expect(afterRun).toHaveLength(1);
    expect(afterRun[0]!.seq).toBeGreaterThan(0);

    const job = buildJobs(runtime, streams).find((j) => j.name === "audit.anchors");
    expect(job).toMatchObject({ cron: "*/7 * * * *", projectKeys: [projectKey] });
    const ctx = { projectKey, slot: "2026-11-03T00:07:00.000000Z", ...held, logger: runtime.logger };
    await job!.run(ctx);
    expect(await readAnchors(database.db, projectKey)).toHaveLength(1);
    await database.db.transaction((tx) =>
      appendEvents(tx, projectKey, [
        { fileUuid: null, kind: "action", before: null, after: { note: "webhooks installed" }, occurredAt: null, observedAt: "2026-11-03T00:05:00Z", source: "action", runId: null, planId: null, actor: "cli:test" },
      ]),
    );
    await job!.run(ctx);
    const scheduled = await readAnchors(database.db, projectKey);
    expect(scheduled.map((a) => a.seq)).toEqual([afterRun[0]!.seq, afterRun[0]!.seq + 1]);
  });
});
