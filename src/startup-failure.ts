import { ConfigError, EXIT_CONFIG } from "./errors.ts";

/**
 * Turns a failure before the service is up into one line on stderr and an exit
 * code: 2 for configuration, 1 for anything else. No stack trace for expected
 * problems; messages never carry secrets (config errors name variables, not values).
 */
export function reportStartupFailure(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`ucledger: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "EADDRINUSE") {
    process.stderr.write(`ucledger: PORT: the port is already in use\n`);
    process.exit(EXIT_CONFIG);
  }
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "28P01" || code === "3D000") {
    process.stderr.write(`ucledger: DATABASE_URL: cannot connect to the database (${describe(err)})\n`);
    process.exit(1);
  }
  process.stderr.write(`ucledger: start-up failed: ${describe(err)}\n`);
  if (err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0]);
  if (err instanceof Error) return err.message.replace(/postgres(ql)?:\/\/\S+/g, "postgres://…");
  return String(err);
}
