import { sandboxCommand } from "./sandbox.ts";
import { migrateCommand } from "./migrate.ts";

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  migrate: { summary: "apply database migrations and exit", run: migrateCommand },
  sandbox: { summary: "serve a local Uploadcare sandbox (REST API v0.7 and Project API usage)", run: sandboxCommand },
};
