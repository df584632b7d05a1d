import { sandboxCommand } from "./sandbox.ts";
import { migrateCommand } from "./migrate.ts";
import { syncCommand } from "./sync.ts";
import { auditCommand } from "./audit.ts";
import { webhooksCommand } from "./webhooks.ts";
import { tokenCommand } from "./token.ts";

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  migrate: { summary: "apply database migrations and exit", run: migrateCommand },
  sync: { summary: "sync files now: sync files [--project KEY] [--full] [--json]", run: syncCommand },
  audit: { summary: "check the audit trail's hash chain: audit verify [--project KEY]", run: auditCommand },
  webhooks: { summary: "subscribe to Uploadcare's file events: webhooks install --url URL", run: webhooksCommand },
  token: { summary: "manage API tokens: token create --name N --role viewer|operator|admin, token list, token revoke --name N", run: tokenCommand },
  sandbox: { summary: "serve a local Uploadcare sandbox (REST API v0.7 and Project API usage)", run: sandboxCommand },
};
