import { readFile, writeFile } from "node:fs/promises";
import { openDatabase, type Database } from "../db/client.ts";
import { describeReportingSurface, renderDictionary, withDictionary } from "../db/queries/analyst.ts";
import { analystRoleOf, listAnalystLogins, setupAnalystRole, type AnalystLoginRow } from "../db/analyst-roles.ts";
import { analystConnectionString, createAnalystLogin, DEFAULT_CONNECTION_LIMIT, dropAnalystLogin } from "../db/queries/analyst-logins.ts";
import { refreshAllDailyRollups, refreshDailyRollup, type RollupRefresh } from "../db/queries/rollup.ts";
import { loadEnv } from "../env.ts";
import { AppError, EXIT_CONFIG } from "../errors.ts";
import { parseFlags } from "./runtime.ts";
import type { TokenIo } from "./token.ts";

const USAGE = [
  "usage: ucledger analyst dictionary [--update FILE]     print the reporting views' data dictionary (Markdown), or rewrite it in FILE",
  "       ucledger analyst setup                           make or renew this database's analysts' role and its grants (run again after upgrades)",
  `       ucledger analyst create-login --name NAME [--connection-limit N] [--json]  a read-only login to this database for psql and BI tools (PostgreSQL server only; N defaults to ${DEFAULT_CONNECTION_LIMIT})`,
  "       ucledger analyst drop-login --name NAME",
  "       ucledger analyst list-logins [--json]            this database's analyst logins, their connection limits and expiry",
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
  /** UCLEDGER_ANALYST_ROLE; unset: derived from the database's name. */
  analystRole?: string | undefined;
}

/** `ucledger analyst …`: needs only the database. */
export async function analystCommand(argv: string[]): Promise<number> {
  const env = loadEnv();
  const database = await openDatabase({ url: env.databaseUrl, dataDir: env.databaseUrl ? undefined : env.dataDir });
  try {
    return await runAnalystCommand({ database, serverUrl: env.databaseUrl, io: processIo, analystRole: env.analystRole }, argv);
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
      "connection-limit": { type: "string" },
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
    if (action === "setup") {
      const setup = await setupAnalystRole(db, await analystRoleOf(db, deps.analystRole));
      deps.io.stdout(
        `${setup.created ? "created" : "renewed"} role ${setup.role}: CONNECT on database ${setup.database} only, SELECT on every view of schema reporting; PUBLIC may no longer connect to ${setup.database} or create temporary tables in it\n`,
      );
      return 0;
    }
    if (action === "list-logins") {
      const logins = await listAnalystLogins(db, await analystRoleOf(db, deps.analystRole));
      if (values.json) deps.io.stdout(`${JSON.stringify(logins)}\n`);
      else deps.io.stdout(renderLogins(logins));
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
      const role = await analystRoleOf(db, deps.analystRole);
      if (action === "drop-login") {
        await dropAnalystLogin(db, values.name, role);
        deps.io.stdout(`dropped login ${values.name}\n`);
        return 0;
      }
      const limit = values["connection-limit"];
      if (limit !== undefined && !/^\d+$/.test(limit)) {
        deps.io.stderr("ucledger analyst: --connection-limit must be a whole number from 1 to 1000\n");
        return EXIT_CONFIG;
      }
      const login = await createAnalystLogin(db, values.name, { role, connectionLimit: limit === undefined ? undefined : Number(limit) });
      const url = analystConnectionString(deps.serverUrl, login);
      if (values.json) {
        deps.io.stdout(`${JSON.stringify({ name: login.name, password: login.password, url })}\n`);
      } else {
        // The connection string alone on stdout, so `URL=$(ucledger analyst create-login …)` works.
        deps.io.stderr(`created login ${login.name} (member of ${login.role}: connects to this database only and reads schema reporting only); the password is shown this once:\n`);
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

/** One line per login, columns aligned; a header even when there are none, so scripts can count lines. */
function renderLogins(logins: AnalystLoginRow[]): string {
  const rows = [
    ["NAME", "CONNECTION LIMIT", "VALID UNTIL", "CAN LOG IN"],
    ...logins.map((l) => [l.name, l.connectionLimit < 0 ? "none" : String(l.connectionLimit), l.validUntil ?? "always", l.canLogin ? "yes" : "no"]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n") + "\n";
}

function usage(io: TokenIo): number {
  io.stderr(`${USAGE}\n`);
  return EXIT_CONFIG;
}
