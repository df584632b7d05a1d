import { projectKeys } from "../db/queries/project-list.ts";
import { listPolicies, type PolicyRecord } from "../db/queries/policies.ts";
import { describeConditions, type Condition } from "../decisions/conditions.ts";
import { createPolicy } from "../decisions/manage-policies.ts";
import { PolicyCreate } from "../decisions/policy.ts";
import { POLICY_TEMPLATES } from "../decisions/templates.ts";
import { AppError, ConfigError, EXIT_CONFIG } from "../errors.ts";
import { cliActor, parseFlags, selectProjects, withRuntime } from "./runtime.ts";

const USAGE = [
  "usage: ucledger policy templates [--json]",
  "       ucledger policy list [--project KEY] [--json]",
  "       ucledger policy create --name NAME --template ID [--param key=value]... [--project KEY] [--description TEXT] [--allow-match-all] [--json]",
  "       ucledger policy create --name NAME --action store|delete|archive --conditions JSON [--archive-target STORAGE] [--project KEY] [--allow-match-all] [--json]",
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

  return withRuntime(async (runtime) => {
    const db = runtime.database.db;
    try {
      if (action === "list") {
        const keys = values.project ? selectProjects(runtime, values.project).map((p) => p.publicKey) : await projectKeys(db);
        const policies = await listPolicies(db, keys);
        if (values.json) for (const p of policies) process.stdout.write(`${JSON.stringify(p)}\n`);
        else if (policies.length === 0) process.stderr.write("no policies\n");
        else for (const p of policies) process.stdout.write(`${describe(p)}\n`);
        return 0;
      }
      if (!values.name) throw new ConfigError("--name: required");
      const projects = selectProjects(runtime, values.project);
      if (projects.length !== 1) throw new ConfigError("--project: required, since several projects are configured");
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
      });
      if (!body.success) {
        const issue = body.error.issues[0];
        throw new ConfigError(`${issue?.path.length ? issue.path.join(".") : "policy"}: ${issue?.message ?? "invalid"}`);
      }
      const created = await createPolicy({ db, now: () => new Date() }, { projectKey: projects[0]!.publicKey, body: body.data, actor: cliActor() });
      process.stdout.write(values.json ? `${JSON.stringify(created)}\n` : `created policy ${describe(created)}\n`);
      return 0;
    } catch (err) {
      if (err instanceof AppError && err.code !== "INTERNAL_SERVER_ERROR") {
        process.stderr.write(`ucledger policy: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  });
}
