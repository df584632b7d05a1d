import { loadEnv } from "../env.ts";
import { openDatabase } from "../db/client.ts";

/** `ucledger migrate`: applies migrations (start-up does this too) and reports where. */
export async function migrateCommand(_argv: string[]): Promise<number> {
  const env = loadEnv();
  const database = await openDatabase({ url: env.databaseUrl, dataDir: env.databaseUrl ? undefined : env.dataDir });
  await database.close();
  process.stdout.write(`migrations applied (${database.kind})\n`);
  return 0;
}
