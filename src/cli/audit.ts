import { verifyChain } from "../db/audit/verify.ts";
import { EXIT_CONFIG } from "../errors.ts";
import { parseFlags, selectProjects, withRuntime } from "./runtime.ts";

/** `ucledger audit verify [--project KEY] [--json]`: walks each project's hash chain. */
export async function auditCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { project: { type: "string" }, json: { type: "boolean" } }, "audit");
  if (positionals[0] !== "verify" || positionals.length > 1) {
    process.stderr.write("usage: ucledger audit verify [--project KEY] [--json]\n");
    return EXIT_CONFIG;
  }
  return withRuntime(async (runtime) => {
    let ok = true;
    for (const project of selectProjects(runtime, values.project)) {
      const report = await verifyChain(runtime.database.db, project.publicKey);
      ok &&= report.ok;
      if (values.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        continue;
      }
      // `events` is the chain as far as its head when the check began: appends made meanwhile are the next check's.
      if (report.ok) process.stdout.write(`${project.publicKey}: chain intact, ${report.events} events\n`);
      else process.stdout.write(`${project.publicKey}: chain BROKEN at event ${report.broken!.seq}: ${report.broken!.reason}\n`);
      if (report.legacyHashed) {
        const { events, firstSeq } = report.legacyHashed;
        process.stdout.write(
          `${project.publicKey}: note: ${events} event(s) from event ${firstSeq} on were hashed before keys named __proto__ were: their hashes do not cover those keys\n`,
        );
      }
    }
    return ok ? 0 : 1;
  });
}
