import pg from "pg";
import { ensureSource, recordSourceError } from "../../db/queries/references.ts";
import { dateToTimestamp } from "../../db/timestamps.ts";
import type { ReferenceSourceSettings } from "../../env.ts";
import { AppError, ConflictError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import { replaceReferences, type IncomingReference, type ReferenceDeps, type ReplaceResult } from "./replace.ts";

/**
 * A pull source: the application's own PostgreSQL, asked for its current set
 * by a configured query that returns a `ref` and a `value` column. The query
 * runs in a READ ONLY transaction, as one statement (extended protocol, so a
 * `;` cannot smuggle in a second one), with a statement timeout, through a
 * cursor read 5,000 rows at a time. The result replaces the source's set
 * exactly as a push would, drop limit included.
 *
 * The URL holds a password: it is never logged, and errors are scrubbed of it.
 */

/** Rows per FETCH from the application's database. */
const FETCH_ROWS = 5_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** An error's message without the URL or its password (drivers sometimes echo connection details). */
export function scrubbed(message: string, url: string): string {
  let out = message.split(url).join("<url>");
  try {
    const parsed = new URL(url);
    if (parsed.password) out = out.split(decodeURIComponent(parsed.password)).join("***").split(parsed.password).join("***");
  } catch {
    // Not a URL: nothing more to hide.
  }
  return out.length > 500 ? `${out.slice(0, 500)}…` : out;
}

async function* rowsOf(client: pg.Client, source: ReferenceSourceSettings): AsyncGenerator<IncomingReference> {
  const pull = source.pull!;
  await client.query("BEGIN TRANSACTION READ ONLY");
  // A whole number from the validated configuration; SET takes no bind parameters.
  await client.query(`SET LOCAL statement_timeout = ${Math.trunc(pull.statementTimeoutMs)}`);
  await client.query({ text: `DECLARE ucledger_references NO SCROLL CURSOR FOR ${pull.query}`, queryMode: "extended" } as pg.QueryConfig);
  let checked = false;
  for (;;) {
    const page = await client.query(`FETCH FORWARD ${FETCH_ROWS} FROM ucledger_references`);
    if (!checked) {
      const names = page.fields.map((f) => f.name);
      if (!names.includes("ref") || !names.includes("value")) {
        throw new AppError("BAD_REQUEST", `the query must return columns named ref and value (it returns ${names.join(", ") || "no columns"})`);
      }
      checked = true;
    }
    for (const row of page.rows as { ref: unknown; value: unknown }[]) {
      yield { ref: row.ref === null || row.ref === undefined ? "" : String(row.ref), value: row.value === null || row.value === undefined ? "" : String(row.value) };
    }
    if (page.rows.length < FETCH_ROWS) break;
  }
  await client.query("COMMIT");
}

/** Runs one pull of a configured source and replaces its set; a failure is recorded on the source and thrown. */
export async function pullReferences(
  deps: ReferenceDeps & { logger: Logger },
  input: { source: ReferenceSourceSettings; force?: boolean; actor?: string },
): Promise<ReplaceResult> {
  const { source } = input;
  if (!source.pull) throw new ConflictError(`source ${source.name} is a push source: it has no query to pull`);
  const { projectKey, name } = source;
  // Registered before the pull, so a source that never succeeds is stale (and holds every file) rather than unknown.
  const registered = await ensureSource(deps.db, { projectKey, source: name, kind: "pull", staleAfterHours: source.staleAfterHours }, dateToTimestamp(deps.now()));
  if (registered.kind !== "pull") throw new ConflictError(`source ${name} was pushed to before it was configured as a pull source: rename one of them`);
  const client = new pg.Client({
    connectionString: source.pull.url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: "ucledger-references",
  });
  // A connection dropping while idle must not crash the process.
  client.on("error", () => {});
  const started = Date.now();
  try {
    await client.connect();
    const result = await replaceReferences(deps, {
      projectKey,
      source: name,
      kind: "pull",
      references: rowsOf(client, source),
      force: input.force ?? false,
      actor: input.actor ?? `ucledger:pull:${name}`,
    });
    deps.logger.info(
      { project: projectKey, source: name, size: result.size, added: result.added, removed: result.removed, unresolved: result.unresolved, duration_ms: Date.now() - started },
      "references pulled",
    );
    return result;
  } catch (err) {
    const message = scrubbed((err as Error).message ?? String(err), source.pull.url);
    await recordSourceError(deps.db, projectKey, name, message).catch(() => {});
    deps.logger.warn({ project: projectKey, source: name, error: message }, "reference pull failed");
    if (err instanceof AppError) throw new AppError(err.code, `pull source ${name}: ${message}`);
    throw new AppError("UPSTREAM_ERROR", `pull source ${name}: ${message}`);
  } finally {
    await client.end().catch(() => {});
  }
}
