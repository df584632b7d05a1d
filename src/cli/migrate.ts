import { loadEnv } from "../env.ts";
import { openDatabase } from "../db/client.ts";

/**
 * `ucledger migrate`: applies migrations (start-up does this too) and reports where.
 * With UCLEDGER_MIGRATE_DATABASE_URL set it migrates as that role (the owner), so
 * DATABASE_URL may name a service role that cannot change the schema.
 */
export async function migrateCommand(_argv: string[]): Promise<number> {
  const env = loadEnv();
  const url = env.migrateDatabaseUrl ?? env.databaseUrl;
  const database = await openDatabase({ url, dataDir: url ? undefined : env.dataDir });
  await database.close();
  process.stdout.write(`migrations applied (${database.kind}${env.migrateDatabaseUrl ? ", as the owner of UCLEDGER_MIGRATE_DATABASE_URL" : ""})\n`);
  return 0;
}
