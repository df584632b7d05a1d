import { openDatabase, type Database } from "../db/client.ts";
import { dropExpiredApiRequests, ensureApiRequestPartitions } from "../db/api-request-partitions.ts";
import { grantService } from "../db/service-grants.ts";
import { loadEnv } from "../env.ts";
import { AppError, EXIT_CONFIG } from "../errors.ts";
import { parseFlags } from "./runtime.ts";
import type { TokenIo } from "./token.ts";

const USAGE = [
  "usage: ucledger db grant-service ROLE   as the owner: let ROLE run the service (read and insert; no ALTER, TRIGGER, TRUNCATE; DELETE only where needed)",
  "       ucledger db maintain             as the owner: create the next months' api_requests partitions and drop those past retention",
  "Both connect with UCLEDGER_MIGRATE_DATABASE_URL when it is set, else DATABASE_URL (docs/security.md, Roles and least privilege).",
].join("\n");

const processIo: TokenIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

/** How many months ahead `db maintain` creates partitions: the owner may run it monthly, not daily. */
const MAINTAIN_MONTHS_AHEAD = 2;

/** `ucledger db …`: owner's work on the server, after migrations. */
export async function dbCommand(argv: string[]): Promise<number> {
  const env = loadEnv();
  const url = env.migrateDatabaseUrl ?? env.databaseUrl;
  const database = await openDatabase({ url, dataDir: url ? undefined : env.dataDir });
  try {
    return await runDbCommand({ database, retentionDays: env.apiLogRetentionDays, io: processIo }, argv);
  } finally {
    await database.close();
  }
}

export interface DbCommandDeps {
  database: Pick<Database, "db" | "kind">;
  retentionDays: number;
  io: TokenIo;
}

/** The command's body, on an open database (tests call it directly). */
export async function runDbCommand(deps: DbCommandDeps, argv: string[]): Promise<number> {
  const { positionals } = parseFlags(argv, {}, "db");
  const [action, ...rest] = positionals;
  try {
    if (action === "grant-service" && rest.length === 1) {
      if (deps.database.kind !== "postgres") {
        deps.io.stderr("ucledger db: roles matter on a PostgreSQL server only: the embedded PGlite database has one user and takes no connections. Set DATABASE_URL.\n");
        return 1;
      }
      const granted = await grantService(deps.database.db, rest[0]!);
      deps.io.stdout(`granted ${rest[0]}:\n${granted.map((line) => `  ${line}`).join("\n")}\n`);
      return 0;
    }
    if (action === "maintain" && rest.length === 0) {
      const now = new Date();
      const created = await ensureApiRequestPartitions(deps.database.db, now, MAINTAIN_MONTHS_AHEAD);
      const dropped = await dropExpiredApiRequests(deps.database.db, now, deps.retentionDays);
      deps.io.stdout(`api_requests partitions: created ${created.join(", ") || "none"}; dropped ${dropped.join(", ") || "none"}\n`);
      return 0;
    }
    deps.io.stderr(`${USAGE}\n`);
    return EXIT_CONFIG;
  } catch (err) {
    if (err instanceof AppError && err.code !== "INTERNAL_SERVER_ERROR") {
      deps.io.stderr(`ucledger db: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
