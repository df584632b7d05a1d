// Each command's module loads only when that command runs: `ucledger --help` and
// a small command do not pay for loading every command's dependencies (the
// reports' charts, the API, the sandbox) through tsx at start.
export interface Command {
  summary: string;
  run(argv: string[]): Promise<number>;
}

export const commands: Record<string, Command> = {
  migrate: { summary: "apply database migrations and exit", run: (argv) => import("./migrate.ts").then((m) => m.migrateCommand(argv)) },
  db: { summary: "as the owner: db grant-service ROLE (least privilege for the service), db maintain (api_requests partitions)", run: (argv) => import("./db-roles.ts").then((m) => m.dbCommand(argv)) },
  sync: { summary: "sync now: sync files [--project KEY] [--full] [--json], sync usage [--project KEY] [--json]", run: (argv) => import("./sync.ts").then((m) => m.syncCommand(argv)) },
  audit: { summary: "check the audit trail against its hash chain and signed anchors: audit verify [--project KEY] [--anchors FILE] [--full]; audit anchors [--json]", run: (argv) => import("./audit.ts").then((m) => m.auditCommand(argv)) },
  webhooks: { summary: "subscribe to Uploadcare's file events: webhooks install --url URL", run: (argv) => import("./webhooks.ts").then((m) => m.webhooksCommand(argv)) },
  token: { summary: "manage API tokens: token create --name N --role viewer|operator|admin, token list, token revoke --name N", run: (argv) => import("./token.ts").then((m) => m.tokenCommand(argv)) },
  analyst: { summary: "SQL access for analysts: analyst setup, analyst create-login --name N [--connection-limit 5], analyst list-logins, analyst dictionary, analyst refresh", run: (argv) => import("./analyst.ts").then((m) => m.analystCommand(argv)) },
  export: { summary: "a reporting view to a file: export VIEW --format csv|parquet --out FILE [--project KEY]", run: (argv) => import("./export.ts").then((m) => m.exportCommand(argv)) },
  policy: { summary: "store/delete policies: policy templates, policy list, policy create --name N --template ID [--param k=v]", run: (argv) => import("./policy.ts").then((m) => m.policyCommand(argv)) },
  plan: { summary: "reviewed store/delete plans: plan propose --policy P, plan show|approve|apply|cancel ID (dry run without --yes)", run: (argv) => import("./plan.ts").then((m) => m.planCommand(argv)) },
  references: { summary: "reference sources: references pull SOURCE [--project KEY] [--force], references status", run: (argv) => import("./references.ts").then((m) => m.referencesCommand(argv)) },
  report: { summary: "store, write out or mail the weekly report: report weekly [--project KEY] [--week 2026-W47] [--send] [--out DIR]", run: (argv) => import("./report.ts").then((m) => m.reportCommand(argv)) },
  sandbox: { summary: "serve a local Uploadcare sandbox (REST API v0.7 and Project API usage)", run: (argv) => import("./sandbox.ts").then((m) => m.sandboxCommand(argv)) },
};
