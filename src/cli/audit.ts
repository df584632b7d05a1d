import { readFileSync } from "node:fs";
import { parseAnchorsFile } from "../db/audit/anchor-file.ts";
import { verifyAgainstAnchors, type AnchoredReport } from "../db/audit/anchor-verify.ts";
import { latestAnchors, type Anchor } from "../db/audit/anchors.ts";
import { ConfigError, EXIT_CONFIG } from "../errors.ts";
import { anchorKeysOf } from "../jobs.ts";
import { remoteJson } from "./remote.ts";
import { parseFlags, remoteServer, selectProjects, withRuntime } from "./runtime.ts";

const USAGE =
  "usage: ucledger audit verify [--project KEY] [--anchors FILE] [--full] [--json]\n" +
  "       ucledger audit anchors [--project KEY] [--limit N] [--json]\n";

/**
 * `ucledger audit verify`: walks each project's hash chain and checks it against
 * the signed anchors (the table's, and an exported file's with `--anchors`),
 * from the last verified anchor on unless `--full`. `ucledger audit anchors`:
 * the newest anchors, to keep a copy outside the database.
 */
export async function auditCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { project: { type: "string" }, json: { type: "boolean" }, anchors: { type: "string" }, full: { type: "boolean" }, limit: { type: "string" } },
    "audit",
  );
  const sub = positionals[0];
  if ((sub !== "verify" && sub !== "anchors") || positionals.length > 1) {
    process.stderr.write(USAGE);
    return EXIT_CONFIG;
  }
  if (sub === "anchors") return listCommand(values);
  // Read the file before opening the database: a bad file is a usage error, named by line.
  let fileAnchors: Anchor[] | undefined;
  let anchorsText: string | undefined;
  if (values.anchors !== undefined) {
    try {
      anchorsText = readFileSync(values.anchors, "utf8");
    } catch (err) {
      throw new ConfigError(`--anchors: cannot read ${values.anchors} (${(err as NodeJS.ErrnoException).code ?? "unreadable"})`);
    }
    try {
      fileAnchors = parseAnchorsFile(anchorsText);
    } catch (err) {
      throw new ConfigError(`--anchors: ${values.anchors} ${(err as Error).message}`);
    }
  }
  const server = remoteServer();
  if (server) {
    const { body } = await remoteJson<{ signaturesChecked: boolean; reports: AnchoredReport[] }>(server, "POST", "/v1/cli/audit/verify", {
      project: values.project,
      full: values.full,
      anchors: anchorsText,
    });
    return printReports(body.reports, body.signaturesChecked, values.json ?? false);
  }
  return withRuntime(async (runtime) => {
    const keys = anchorKeysOf(runtime, { createDemoKey: false });
    const publicKeys = [...keys.publicKeys.values()].map((k) => k.export({ format: "pem", type: "spki" }).toString());
    const reports: AnchoredReport[] = [];
    for (const project of selectProjects(runtime, values.project)) {
      reports.push(await verifyAgainstAnchors(runtime.database.db, project.publicKey, { publicKeys, fileAnchors, full: values.full ?? false }));
    }
    return printReports(reports, publicKeys.length > 0, values.json ?? false);
  });
}

/** What `audit verify` prints, whether this process or the server checked the chains. */
function printReports(reports: AnchoredReport[], signaturesChecked: boolean, json: boolean): number {
  if (!signaturesChecked) {
    process.stderr.write("note: no UCLEDGER_AUDIT_KEY or UCLEDGER_AUDIT_PUBLIC_KEY: anchor signatures are not checked, only their positions\n");
  }
  for (const report of reports) {
    if (json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else printReport(report);
  }
  return reports.every((r) => r.ok) ? 0 : 1;
}

function printReport(report: AnchoredReport): void {
  const { projectKey, chain, anchors } = report;
  const from = report.walkedFrom > 0 ? ` (walked from verified anchor ${report.walkedFrom})` : "";
  // `events` is the chain as far as its head when the check began: appends made meanwhile are the next check's.
  if (chain.ok) process.stdout.write(`${projectKey}: chain intact, ${chain.events} events${from}\n`);
  else process.stdout.write(`${projectKey}: chain BROKEN at event ${chain.broken!.seq}: ${chain.broken!.reason}\n`);
  const counted = `${anchors.database} anchor(s) in the database${anchors.file ? `, ${anchors.file} from the file` : ""}`;
  if (report.problems.length === 0) {
    process.stdout.write(`${projectKey}: anchors agree (${counted}${anchors.latest ? `; newest holding: event ${anchors.latest.seq} taken ${anchors.latest.takenAt}` : ""})\n`);
  } else {
    process.stdout.write(`${projectKey}: anchors DISAGREE (${counted}):\n`);
    for (const p of report.problems) process.stdout.write(`  ${p.kind}: ${p.message}\n`);
    if (report.moreProblems > 0) process.stdout.write(`  … and ${report.moreProblems} more\n`);
  }
  if (chain.legacyHashed) {
    const { events, firstSeq } = chain.legacyHashed;
    process.stdout.write(
      `${projectKey}: note: ${events} event(s) from event ${firstSeq} on were hashed before keys named __proto__ were: their hashes do not cover those keys\n`,
    );
  }
}

async function listCommand(values: { project?: string | undefined; json?: boolean | undefined; limit?: string | undefined }): Promise<number> {
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new ConfigError("--limit: must be a whole number from 1 to 100000");
  return withRuntime(async (runtime) => {
    for (const project of selectProjects(runtime, values.project)) {
      const anchors = await latestAnchors(runtime.database.db, project.publicKey, limit);
      // --json prints NDJSON, one anchor a line: what `audit verify --anchors FILE` reads back.
      if (values.json) {
        for (const a of anchors) process.stdout.write(`${JSON.stringify(a)}\n`);
        continue;
      }
      if (anchors.length === 0) process.stdout.write(`${project.publicKey}: no anchors\n`);
      for (const a of anchors) process.stdout.write(`${a.projectKey}  event ${a.seq}  ${a.hash}  ${a.takenAt}  key ${a.keyId}  ${a.signature}\n`);
    }
    return 0;
  });
}
