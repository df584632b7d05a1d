import { sandboxCommand } from "./sandbox.ts";
import { migrateCommand } from "./migrate.ts";
import { syncCommand } from "./sync.ts";
import { auditCommand } from "./audit.ts";
import { webhooksCommand } from "./webhooks.ts";
import { tokenCommand } from "./token.ts";
import { reportCommand } from "./report.ts";
import { policyCommand } from "./policy.ts";
import { planCommand } from "./plan.ts";
import { analystCommand } from "./analyst.ts";
import { exportCommand } from "./export.ts";
import { referencesCommand } from "./references.ts";
import { dbCommand } from "./db-roles.ts";

export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  migrate: { summary: "apply database migrations and exit", run: migrateCommand },
  db: { summary: "as the owner: db grant-service ROLE (least privilege for the service), db maintain (api_requests partitions)", run: dbCommand },
  sync: { summary: "sync now: sync files [--project KEY] [--full] [--json], sync usage [--project KEY] [--json]", run: syncCommand },
  audit: { summary: "check the audit trail against its hash chain and signed anchors: audit verify [--project KEY] [--anchors FILE] [--full]; audit anchors [--json]", run: auditCommand },
  webhooks: { summary: "subscribe to Uploadcare's file events: webhooks install --url URL", run: webhooksCommand },
  token: { summary: "manage API tokens: token create --name N --role viewer|operator|admin, token list, token revoke --name N", run: tokenCommand },
  analyst: { summary: "SQL access for analysts: analyst setup, analyst create-login --name N [--connection-limit 5], analyst list-logins, analyst dictionary, analyst refresh", run: analystCommand },
  export: { summary: "a reporting view to a file: export VIEW --format csv|parquet --out FILE [--project KEY]", run: exportCommand },
  policy: { summary: "store/delete policies: policy templates, policy list, policy create --name N --template ID [--param k=v]", run: policyCommand },
  plan: { summary: "reviewed store/delete plans: plan propose --policy P, plan show|approve|apply|cancel ID (dry run without --yes)", run: planCommand },
  references: { summary: "reference sources: references pull SOURCE [--project KEY] [--force], references status", run: referencesCommand },
  report: { summary: "store, write out or mail the weekly report: report weekly [--project KEY] [--week 2026-W47] [--send] [--out DIR]", run: reportCommand },
  sandbox: { summary: "serve a local Uploadcare sandbox (REST API v0.7 and Project API usage)", run: sandboxCommand },
};
