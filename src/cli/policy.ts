import { projectKeys } from "../db/queries/project-list.ts";
import { listPolicies, type PolicyRecord } from "../db/queries/policies.ts";
import { describeConditions, type Condition } from "../decisions/conditions.ts";
import { createPolicy } from "../decisions/manage-policies.ts";
import { PolicyCreate } from "../decisions/policy.ts";
import { POLICY_TEMPLATES } from "../decisions/templates.ts";
import { AppError, ConfigError, EXIT_CONFIG } from "../errors.ts";
import { remoteJson } from "./remote.ts";
import { cliActor, parseFlags, remoteServer, selectProjects, withRuntime } from "./runtime.ts";

const USAGE = [
  "usage: ucledger policy templates [--json]",
  "       ucledger policy list [--project KEY] [--json]",
  "       ucledger policy create --name NAME --template ID [--param key=value]... [--project KEY] [--description TEXT] [--allow-match-all] [--json]",
  "       ucledger policy create --name NAME --action store|delete|archive --conditions JSON [--archive-target STORAGE] [--project KEY] [--allow-match-all] [--json]",
  "       ucledger policy create --name NAME --action tag --conditions JSON [--tag-set key=value]... [--tag-remove KEY]... [--project KEY] [--json]",
  "       ucledger policy create --name NAME --action version --conditions JSON [--version-operations=-/format/webp/-/quality/smart/] [--delete-original] [--project KEY] [--json]",
].join("\n");

/** `key=value` pairs; numbers and booleans stay text, the template's schema coerces them. */
export function parsePairs(pairs: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new ConfigError(`--${flag}: ${JSON.stringify(pair)} is not key=value`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

function describe(p: PolicyRecord): string {
  const conditions = describeConditions(p.conditions as Condition[]).join("; ") || "every file (allowMatchAll)";
  return `${p.id}  ${p.projectKey}  ${p.name} (v${p.version}): ${p.action} where ${conditions}`;
}

/** `ucledger policy templates|list|create`. */
export async function policyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      project: { type: "string" },
      name: { type: "string" },
      template: { type: "string" },
      param: { type: "string", multiple: true },
      action: { type: "string" },
      conditions: { type: "string" },
      description: { type: "string" },
      "archive-target": { type: "string" },
      "tag-set": { type: "string", multiple: true },
      "tag-remove": { type: "string", multiple: true },
      "version-operations": { type: "string" },
      "delete-original": { type: "boolean" },
      "allow-match-all": { type: "boolean" },
      json: { type: "boolean" },
    },
    "policy",
  );
  const [action, ...rest] = positionals;
  if (!action || rest.length > 0) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT_CONFIG;
  }

  if (action === "templates") {
    for (const t of POLICY_TEMPLATES) {
      if (values.json) process.stdout.write(`${JSON.stringify({ id: t.id, action: t.action, summary: t.summary, params: t.params })}\n`);
      else {
        const params = Object.entries(t.params).map(([k, v]) => `\n    --param ${k}=…  ${v}`).join("");
        process.stdout.write(`${t.id} (${t.action}): ${t.summary}${params}\n`);
      }
    }
    return 0;
  }
  if (action !== "list" && action !== "create") {
    process.stderr.write(`${USAGE}\n`);
    return EXIT_CONFIG;
  }

  const server = remoteServer();
  if (server) {
    return handled(async () => {
      if (action === "list") {
        const query = values.project ? `?project=${encodeURIComponent(values.project)}` : "";
        printList((await remoteJson<{ data: PolicyRecord[] }>(server, "GET", `/v1/policies${query}`)).body.data, values.json ?? false);
        return 0;
      }
      const body = policyBody(values);
      const created = (await remoteJson<PolicyRecord>(server, "POST", "/v1/policies", { project: values.project, ...body })).body;
      process.stdout.write(values.json ? `${JSON.stringify(created)}\n` : `created policy ${describe(created)}\n`);
      return 0;
    });
  }

  return withRuntime(async (runtime) => {
    const db = runtime.database.db;
    return handled(async () => {
      if (action === "list") {
        const keys = values.project ? selectProjects(runtime, values.project).map((p) => p.publicKey) : await projectKeys(db);
        printList(await listPolicies(db, keys), values.json ?? false);
        return 0;
      }
      const body = policyBody(values);
      const projects = selectProjects(runtime, values.project);
      if (projects.length !== 1) throw new ConfigError("--project: required, since several projects are configured");
      const created = await createPolicy({ db, now: () => new Date() }, { projectKey: projects[0]!.publicKey, body, actor: cliActor() });
      process.stdout.write(values.json ? `${JSON.stringify(created)}\n` : `created policy ${describe(created)}\n`);
      return 0;
    });
  });
}

/** An empty list says so (on stdout, where the list would be), with where to begin; --json prints no lines. */
function printList(policies: PolicyRecord[], json: boolean): void {
  if (json) for (const p of policies) process.stdout.write(`${JSON.stringify(p)}\n`);
  else if (policies.length === 0) process.stdout.write("no policies yet: see `ucledger policy templates`, then `ucledger policy create --name NAME --template ID`\n");
  else for (const p of policies) process.stdout.write(`${describe(p)}\n`);
}

/** Refusals of the ledger (a taken name, an unknown project) are exit 1 with the reason; anything else is a bug. */
async function handled(body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof AppError && err.code !== "INTERNAL_SERVER_ERROR") {
      process.stderr.write(`ucledger policy: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

type PolicyFlags = {
  name?: string | undefined;
  description?: string | undefined;
  template?: string | undefined;
  param?: string[] | undefined;
  action?: string | undefined;
  conditions?: string | undefined;
  "allow-match-all"?: boolean | undefined;
  "archive-target"?: string | undefined;
  "tag-set"?: string[] | undefined;
  "tag-remove"?: string[] | undefined;
  "version-operations"?: string | undefined;
  "delete-original"?: boolean | undefined;
};

/** The policy the flags describe, checked here: a bad flag is a usage error before anything is asked of the database or the server. */
function policyBody(values: PolicyFlags): PolicyCreate {
  if (!values.name) throw new ConfigError("--name: required");
  let conditions: unknown;
  if (values.conditions !== undefined) {
    try {
      conditions = JSON.parse(values.conditions);
    } catch {
      throw new ConfigError("--conditions: not valid JSON");
    }
  }
  const body = PolicyCreate.safeParse({
    name: values.name,
    description: values.description,
    template: values.template,
    params: values.template ? parsePairs(values.param, "param") : undefined,
    action: values.action,
    conditions,
    allowMatchAll: values["allow-match-all"],
    archive: values["archive-target"] ? { target: values["archive-target"] } : undefined,
    tag: values["tag-set"] || values["tag-remove"] ? { set: values["tag-set"] ? parsePairs(values["tag-set"], "tag-set") : undefined, remove: values["tag-remove"] } : undefined,
    versionSpec:
      values["version-operations"] !== undefined || values["delete-original"] ? { operations: values["version-operations"] ?? "", deleteOriginal: values["delete-original"] ?? false } : undefined,
  });
  if (!body.success) {
    const issue = body.error.issues[0];
    throw new ConfigError(`${issue?.path.length ? issue.path.join(".") : "policy"}: ${issue?.message ?? "invalid"}`);
  }
  return body.data;
}
