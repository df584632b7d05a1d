/**
 * ucledger's first sync (`sync files --full` on an empty ledger: the webhook
 * inbox, then the backfill), then, with `incremental`, 100 new uploads and a
 * plain sync: its time and how many list requests it made.
 */
import { sql } from "drizzle-orm";
import { openDatabase } from "../../src/db/client.ts";
import { queryRows } from "../../src/db/query.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { createLogger } from "../../src/logger.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { createUploadcareClient } from "../../src/sync/uploadcare/create-client.ts";
import { contenderArgs, measure } from "./child.ts";

const { sandbox, databaseUrl } = contenderArgs();
const incremental = process.argv.includes("--incremental");
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const database = await openDatabase({ url: databaseUrl });
await registerProjects(database.db, [{ projectKey: sandbox.publicKey, name: "bench", isDemo: false }]);
const logger = createLogger("warn");
const client = createUploadcareClient({ db: database.db, logger, project: { ...sandbox, apiBase: sandbox.url } });
const deps = { db: database.db, client, logger, now: () => new Date(), concurrency };

await measure(async () => {
  const runs = await syncFiles(deps, { full: true });
  const failed = runs.find((r) => r.status !== "ok");
  if (failed) throw new Error(`${failed.lane} ended ${failed.status}: ${failed.error}`);
  const [counts] = await queryRows<{ files: number; events: number }>(
    database.db,
    sql`select (select count(*)::int from files) as files, (select count(*)::int from file_events) as events`,
  );
  return { files: counts!.files, events: counts!.events, listed: runs.reduce((n, r) => n + r.seen, 0) };
});

if (incremental) {
  const uploaded = await fetch(new URL("/__sandbox/files", sandbox.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ count: 100 }),
  });
  if (!uploaded.ok) throw new Error(`sandbox upload answered ${uploaded.status}`);
  const started = performance.now();
  const runs = await syncFiles(deps, { full: false });
  const ms = performance.now() - started;
  const ids = runs.map((r) => r.runId);
  const [requests] = await queryRows<{ n: number }>(
    database.db,
    sql`select count(*)::int as n from api_requests where run_id = any(${sql.param(ids)}::text[]) and path = '/files/'`,
  );
  const inserted = runs.reduce((n, r) => n + r.inserted, 0);
  process.stdout.write(`${JSON.stringify({ incrementalMs: ms, listRequests: requests!.n, inserted })}\n`);
}
await database.close();
