import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { queryRows } from "../../src/db/query.ts";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { apiHarness } from "../api/helpers.ts";
import { runCli, spawnCli } from "../support/cli.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { randomPort, startServer, waitForHealth } from "../support/server.ts";
import { until } from "../support/wait.ts";

interface RunRow {
  id: string;
  lane: string;
  status: string;
  pages: number;
  seen: number;
  finished_at: string | null;
  error: string | null;
}

const runsOf = (db: Database["db"], projectKey: string) =>
  queryRows<RunRow>(
    db,
    sql`select id::text as id, lane, status, pages, seen, finished_at::text as finished_at, error
        from sync_runs where project_key = ${projectKey} order by started_at`,
  );

/** The database of one backend, opened only while no child process has it (PGlite allows one process). */
function backendOf(kind: "pglite" | "postgres", server: TestDatabase | undefined, dataDir: string) {
  const env: Record<string, string> = kind === "postgres" ? { DATABASE_URL: server!.url! } : { UCLEDGER_DATA_DIR: dataDir };
  return {
    env,
    async with<T>(body: (database: TestDatabase) => Promise<T>): Promise<T> {
      if (kind === "postgres") return body(server!);
      const database = await openDatabase({ dataDir });
      try {
        return await body({ ...database, url: undefined });
      } finally {
        await database.close();
      }
    },
  };
}

describe.each(backends)("`ucledger sync files` on %s", (kind) => {
  let sandbox: Sandbox | undefined;
  let server: TestDatabase | undefined;
  let backend: ReturnType<typeof backendOf>;
  let env: Record<string, string>;
  afterAll(async () => {
    await sandbox?.close();
    await server?.close();
  });

  it("killed with SIGKILL, leaves its run `running` with the counts it had written; the next run closes it as abandoned", async () => {
    // A first sync is a backfill: 4 probes, then 8 slices of about 3 pages each, 8 requests at a time
    // at 800 ms each. The child is killed after the first round of pages, in the middle of the backfill.
    sandbox = await startSandbox({ files: 20_000, seed: 31, faults: { latencyMs: 800 } });
    if (kind === "postgres") server = await createTestDatabase("postgres");
    backend = backendOf(kind, server, mkdtempSync(join(tmpdir(), "ucl-abandon-")));
    env = { UPLOADCARE_PUBLIC_KEY: sandbox.publicKey, UPLOADCARE_SECRET_KEY: sandbox.secretKey, UPLOADCARE_API_BASE: sandbox.url, ...backend.env };

    // Killed once the run's row holds the counts of at least one committed page (the child logs each
    // write of the counts at debug level), while the backfill is still far from its end.
    const { child, done } = spawnCli(["sync", "files", "--json"], { ...env, LOG_LEVEL: "debug" });
    let log = "";
    child.stderr!.on("data", (chunk) => (log += chunk));
    const countsWritten = () => log.split("\n").some((line) => line.includes('"run counts written"') && line.includes('"lane":"backfill"') && /"pages":[1-9]/.test(line));
    await until("the child to write the backfill's counts", countsWritten, { intervalMs: 20 });
    child.kill("SIGKILL");
    expect((await done).signal).toBe("SIGKILL");

    const ghost = await backend.with(async (database) => {
      const runs = await runsOf(database.db, sandbox!.publicKey);
      // A first sync: the new-files and reconciliation lanes are one backfill.
      expect(runs.map((r) => `${r.lane}:${r.status}`)).toEqual(["webhooks:ok", "backfill:running"]);
      return runs[1]!;
    });
    expect(ghost.pages).toBeGreaterThanOrEqual(1);
    // Slices end inside pages, so a page holds up to 1,000 of the slice's files.
    expect(ghost.seen).toBeGreaterThan(0);
    expect(ghost.seen).toBeLessThanOrEqual(ghost.pages * 1_000);

    // The next run takes the stream at once (the killed process is gone from this host) and closes the ghost.
    await sandbox.setFaults({ latencyMs: 0 });
    const next = await runCli(["sync", "files", "--json"], env);
    expect(next.stderr).toBe("");
    expect(next.code).toBe(0);

    await backend.with(async (database) => {
      const runs = await runsOf(database.db, sandbox!.publicKey);
      const closed = runs.find((r) => r.id === ghost.id)!;
      expect(closed).toMatchObject({ status: "abandoned", pages: ghost.pages, seen: ghost.seen });
      expect(closed.finished_at).not.toBeNull();
      expect(closed.error).toMatch(/^the process running it stopped before finishing; closed by the next files run \(cli:[^:]+:\d+\)$/);
      expect(runs.filter((r) => r.id !== ghost.id).map((r) => r.status)).toEqual(["ok", "ok", "ok"]);

      // The killed run's claim was taken over, not run beside.
      const claims = await queryRows<{ status: string; error: string | null }>(
        database.db,
        sql`select status, error from job_claims where project_key = ${sandbox!.publicKey} and job = 'files.manual' order by claimed_at`,
      );
      expect(claims.map((c) => c.status)).toEqual(["failed", "done"]);
      expect(claims[0]!.error).toMatch(/^the process holding it \(cli:[^:]+:\d+\) stopped before finishing; taken over by cli:/);

      // Sync health shows it, with the quarantined count beside the others.
      const api = await apiHarness(database);
      const listedRuns = await api.json<{ data: { id: string; status: string; quarantined: number; error: string }[] }>(
        `/v1/sync/runs?project=${sandbox!.publicKey}&status=abandoned`,
      );
      expect(listedRuns.status).toBe(200);
      expect(listedRuns.body.data).toEqual([expect.objectContaining({ id: ghost.id, status: "abandoned", quarantined: 0 })]);
    });
  }, 180_000);

  it("refuses to start while a scheduled run holds the stream, naming it, and exits 3", async () => {
    await backend.with((database) =>
      database.db.execute(sql`insert into job_claims (project_key, job, slot, fencing_token, holder, status, claimed_at, lease_until)
        values (${sandbox!.publicKey}, 'files.reconcile', '2026-04-05T03:30:00Z', nextval('job_fencing_tokens'), 'ucledger-5ched', 'running',
                now(), now() + interval '1 hour')`),
    );
    const refused = await runCli(["sync", "files", "--json"], env);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^ucledger sync: a files sync is already running for ${sandbox!.publicKey} \\(files\\.reconcile \\(slot 2026-04-05T03:30:00\\.000000Z\\) held by ucledger-5ched since [^)]+\\): not started\n$`,
      ),
    );
    expect(JSON.parse(refused.stdout)).toMatchObject({ stream: "files", status: "skipped", pages: 0 });
    await backend.with(async (database) => {
      const [skip] = await queryRows<{ status: string; holder: string; error: string }>(
        database.db,
        sql`select status, holder, error from job_claims where project_key = ${sandbox!.publicKey} and job = 'files.manual' order by claimed_at desc limit 1`,
      );
      expect(skip).toMatchObject({ status: "skipped", holder: expect.stringMatching(/^cli:[^:]+:\d+$/) });
      expect(skip!.error).toMatch(/^refused: a files sync is already running for .* held by ucledger-5ched/);
    });
  }, 60_000);
});

describe.each(backends)("start-up on %s", (kind) => {
  let server: TestDatabase | undefined;
  afterAll(async () => {
    await server?.close();
  });

  it("closes runs a dead process left `running`, but not one a live claim still covers", async () => {
    if (kind === "postgres") server = await createTestDatabase("postgres");
    const backend = backendOf(kind, server, mkdtempSync(join(tmpdir(), "ucl-ghost-")));
    const ghost = randomUUID();
    const expiredGhost = randomUUID();
    const live = randomUUID();
    await backend.with(async (database) => {
      await registerProjects(database.db, [
        { projectKey: "ghost-p", name: "ghost", isDemo: false },
        { projectKey: "ghost-q", name: "ghost", isDemo: false },
      ]);
      const run = (projectKey: string, id: string, stream: string, lane: string) =>
        database.db.execute(sql`insert into sync_runs (project_key, id, stream, lane, started_at, status, pages, seen)
          values (${projectKey}, ${id}, ${stream}, ${lane}, now() - interval '5 minutes', 'running', 3, 3000)`);
      const claim = (projectKey: string, job: string, leaseUntil: string) =>
        database.db.execute(sql`insert into job_claims (project_key, job, slot, fencing_token, holder, status, claimed_at, lease_until)
          values (${projectKey}, ${job}, now(), nextval('job_fencing_tokens'), 'elsewhere', 'running', now(), ${sql.raw(leaseUntil)})`);
      // No claim at all: a dead process's run.
      await run("ghost-p", ghost, "files", "reconcile");
      // Its claim expired: dead too.
      await run("ghost-q", expiredGhost, "files", "new");
      await claim("ghost-q", "files.new", "now() - interval '1 minute'");
      // A live claim of its stream: maybe another instance's run in progress.
      await run("ghost-p", live, "usage", "daily");
      await claim("ghost-p", "usage.daily", "now() + interval '1 hour'");
    });

    const port = randomPort();
    const app = startServer({ ...backend.env, PORT: String(port), UCLEDGER_SCHEDULER: "off" });
    try {
      await waitForHealth(port, 60_000);
    } finally {
      app.child.kill("SIGTERM");
      expect(await app.exited).toBe(0);
    }

    await backend.with(async (database) => {
      const rows = await queryRows<{ id: string; status: string; pages: number; error: string | null }>(
        database.db,
        sql`select id::text as id, status, pages, error from sync_runs where project_key like 'ghost-%'`,
      );
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const id of [ghost, expiredGhost]) {
        expect(byId.get(id)).toMatchObject({ status: "abandoned", pages: 3 });
        expect(byId.get(id)!.error).toMatch(/^the process running it stopped before finishing; closed at start-up \(ucledger .* pid \d+\)$/);
      }
      expect(byId.get(live)).toMatchObject({ status: "running", error: null });
    });
  }, 120_000);
});
