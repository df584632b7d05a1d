import { readFile, writeFile } from "node:fs/promises";
import { openDatabase, type Database } from "../db/client.ts";
import { describeReportingSurface, renderDictionary, withDictionary } from "../db/queries/analyst.ts";
import { analystConnectionString, createAnalystLogin, dropAnalystLogin } from "../db/queries/analyst-logins.ts";
import { refreshAllDailyRollups, refreshDailyRollup, type RollupRefresh } from "../db/queries/rollup.ts";
import { loadEnv } from "../env.ts";
import { AppError, EXIT_CONFIG } from "../errors.ts";
import { parseFlags } from "./runtime.ts";
import type { TokenIo } from "./token.ts";

const USAGE = [
  "usage: ucledger analyst dictionary [--update FILE]     print the reporting views' data dictionary (Markdown), or rewrite it in FILE",
  "       ucledger analyst create-login --name NAME [--json]  a read-only login for psql and BI tools (PostgreSQL server only)",
  "       ucledger analyst drop-login --name NAME",
  "       ucledger analyst refresh [--project KEY] [--since YYYY-MM-DD] [--full]  bring fct_daily_files up to date",
].join("\n");

const processIo: TokenIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

export interface AnalystDeps {
  database: Pick<Database, "db" | "kind">;
  /** The server's URL, for printing a login's connection string. */
  serverUrl: string | undefined;
  io: TokenIo;
}

/** `ucledger analyst …`: needs only the database. */
export async function analystCommand(argv: string[]): Promise<number> {
  const env = loadEnv();
  const database = await openDatabase({ url: env.databaseUrl, dataDir: env.databaseUrl ? undefined : env.dataDir });
  try {
    return await runAnalystCommand({ database, serverUrl: env.databaseUrl, io: processIo }, argv);
  } finally {
    await database.close();
  }
}

/** The command's body, on an open database (tests call it directly). */
export async function runAnalystCommand(deps: AnalystDeps, argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      name: { type: "string" },
      json: { type: "boolean" },
      update: { type: "string" },
      project: { type: "string" },
      since: { type: "string" },
      full: { type: "boolean" },
    },
    "analyst",
  );
  const [action, ...rest] = positionals;
  if (!action || rest.length > 0) return usage(deps.io);
  const { db } = deps.database;
  try {
    if (action === "dictionary") {
      const dictionary = renderDictionary(await describeReportingSurface(db));
      if (!values.update) {
        deps.io.stdout(`${dictionary}\n`);
        return 0;
      }
      await writeFile(values.update, withDictionary(await readFile(values.update, "utf8"), dictionary));
      deps.io.stderr(`rewrote the data dictionary in ${values.update}\n`);
      return 0;
    }
    if (action === "create-login" || action === "drop-login") {
      if (!values.name) return usage(deps.io);
      if (deps.database.kind !== "postgres" || !deps.serverUrl) {
        deps.io.stderr(
          "ucledger analyst: logins need a PostgreSQL server: the embedded PGlite database takes no network connections. Set DATABASE_URL to a server (15 or newer) and run this again.\n",
        );
        return 1;
      }
      if (action === "drop-login") {
        await dropAnalystLogin(db, values.name);
        deps.io.stdout(`dropped login ${values.name}\n`);
        return 0;
      }
      const login = await createAnalystLogin(db, values.name);
      const url = analystConnectionString(deps.serverUrl, login);
      if (values.json) {
        deps.io.stdout(`${JSON.stringify({ name: login.name, password: login.password, url })}\n`);
      } else {
        // The connection string alone on stdout, so `URL=$(ucledger analyst create-login …)` works.
        deps.io.stderr(`created login ${login.name} (member of ucledger_analyst: reads schema reporting only); the password is shown this once:\n`);
        deps.io.stdout(`${url}\n`);
      }
      return 0;
    }
    if (action === "refresh") {
      if (values.since !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(values.since)) {
        deps.io.stderr("ucledger analyst: --since must be YYYY-MM-DD\n");
        return EXIT_CONFIG;
      }
      const options = { since: values.since, full: values.full };
      const results: RollupRefresh[] = values.project ? [await refreshDailyRollup(db, values.project, options)] : await refreshAllDailyRollups(db, options);
      for (const r of results) deps.io.stdout(`${r.projectKey}: ${r.mode}${r.days > 0 ? `, ${r.days} days recomputed` : ""} (audit trail read to #${r.lastEventSeq})\n`);
      return 0;
    }
    return usage(deps.io);
  } catch (err) {
    if (err instanceof AppError && err.code !== "INTERNAL_SERVER_ERROR") {
      deps.io.stderr(`ucledger analyst: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function usage(io: TokenIo): number {
  io.stderr(`${USAGE}\n`);
  return EXIT_CONFIG;
}
