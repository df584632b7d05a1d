import type { Runtime } from "../bootstrap.ts";
import { listSources } from "../db/queries/references.ts";
import { ConfigError, EXIT_CONFIG } from "../errors.ts";
import { pullReferences } from "../sync/references/pull.ts";
import { cliActor, parseFlags, selectProjects, withRuntime } from "./runtime.ts";

const USAGE = [
  "usage: ucledger references pull SOURCE [--project KEY] [--force] [--json]   run a pull source's query now and replace its set",
  "       ucledger references status [--project KEY] [--json]                  every source: size, last report, stale or not",
].join("\n");

/** `ucledger references pull|status` (docs/references.md). */
export async function referencesCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { project: { type: "string" }, force: { type: "boolean" }, json: { type: "boolean" } },
    "references",
  );
  const [action, source, ...rest] = positionals;
  if (rest.length > 0 || (action === "pull" && !source) || (action === "status" && source) || (action !== "pull" && action !== "status")) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT_CONFIG;
  }
  return withRuntime((runtime) =>
    action === "pull" ? runPull(runtime, source!, values) : runStatus(runtime, values),
  );
}

async function runPull(runtime: Runtime, name: string, options: { project?: string | undefined; force?: boolean | undefined; json?: boolean | undefined }): Promise<number> {
  const settings = runtime.env.references;
  const keys = selectProjects(runtime, options.project).map((p) => p.publicKey);
  const matches = settings.sources.filter((s) => s.name === name && keys.includes(s.projectKey));
  if (matches.length === 0) throw new ConfigError(`references pull: no configured source ${name}${options.project ? ` in project ${options.project}` : ""}`);
  if (matches.length > 1) throw new ConfigError(`references pull: several projects have a source ${name}: pass --project`);
  const source = matches[0]!;
  if (!source.pull) throw new ConfigError(`references pull: source ${name} is a push source (it has no url and query)`);
  try {
    const result = await pullReferences(
      { db: runtime.database.db, now: () => new Date(), settings, logger: runtime.logger },
      { source, force: options.force ?? false, actor: cliActor() },
    );
    if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      process.stdout.write(
        `${source.projectKey} ${name}: ${result.size} references (${result.added} added, ${result.removed} removed), ` +
          `${result.unresolved} values naming no file, ${result.unknownFiles} to files not in the ledger${result.forced ? ", forced past the drop limit" : ""}\n`,
      );
      for (const s of result.unresolvedSamples) process.stdout.write(`  unresolved ${JSON.stringify(s.ref)} ${JSON.stringify(s.value)}: ${s.reason}\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
}

async function runStatus(runtime: Runtime, options: { project?: string | undefined; json?: boolean | undefined }): Promise<number> {
  const keys = selectProjects(runtime, options.project).map((p) => p.publicKey);
  const sources = await listSources(runtime.database.db, keys, new Date().toISOString());
  const configured = runtime.env.references.sources.filter((s) => keys.includes(s.projectKey) && !sources.some((r) => r.projectKey === s.projectKey && r.source === s.name));
  if (options.json) {
    for (const s of sources) process.stdout.write(`${JSON.stringify(s)}\n`);
    for (const s of configured) process.stdout.write(`${JSON.stringify({ projectKey: s.projectKey, source: s.name, kind: s.pull ? "pull" : "push", registered: false, stale: true })}\n`);
    return 0;
  }
  if (sources.length + configured.length === 0) {
    process.stdout.write("no reference source: no file counts as unreferenced (see docs/references.md)\n");
    return 0;
  }
  for (const s of sources) {
    const last = s.lastSnapshot ? `, last ${s.lastSnapshot.kind} ${s.lastSnapshot.status} at ${s.lastSnapshot.takenAt} (+${s.lastSnapshot.added} −${s.lastSnapshot.removed})` : "";
    process.stdout.write(
      `${s.projectKey} ${s.source} (${s.kind}): ${s.refs} references, last reported ${s.lastReportedAt ?? "never"}${s.stale ? ` — STALE (expected every ${s.staleAfterHours} h)` : ""}${last}` +
        `${s.lastError ? `\n  last pull failed: ${s.lastError}` : ""}\n`,
    );
  }
  for (const s of configured) process.stdout.write(`${s.projectKey} ${s.name} (${s.pull ? "pull" : "push"}): configured, never reported — STALE\n`);
  return 0;
}
