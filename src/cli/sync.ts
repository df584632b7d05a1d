import { SingleBar, Presets } from "cli-progress";
import { EXIT_CONFIG } from "../errors.ts";
import { createStreams, failureOf } from "../jobs.ts";
import { claimManualRun, manualHolder } from "../scheduler/exclusion.ts";
import { overallStatus, type FilesLane } from "../sync/files/sync-files.ts";
import type { PageProgress } from "../sync/files/lane-deps.ts";
import type { RunSummary } from "../sync/runs.ts";
import { parseFlags, selectProjects, withRuntime } from "./runtime.ts";

const USAGE = "usage: ucledger sync files [--project KEY] [--full] [--json]";

/** Exit code when a project's files stream was not synced because another run of it was going. */
export const EXIT_HELD = 3;

/**
 * `ucledger sync files`: one pass of the files stream now. Each project's pass
 * takes the stream's claim like a scheduled run, so it never overlaps one (or
 * the API's, or another CLI's); a project whose stream is held is not synced,
 * with a line on stderr naming the holder, and the command exits EXIT_HELD.
 */
export async function syncCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { project: { type: "string" }, full: { type: "boolean" }, json: { type: "boolean" } },
    "sync",
  );
  if (positionals[0] !== "files" || positionals.length > 1) {
    process.stderr.write(`ucledger sync: unknown stream '${positionals.join(" ")}'\n${USAGE}\n`);
    return EXIT_CONFIG;
  }
  return withRuntime(async (runtime) => {
    const started = Date.now();
    const streams = createStreams(runtime);
    const holder = manualHolder("cli");
    const lanes: FilesLane[] = values.full ? ["webhooks", "new", "reconcile"] : ["webhooks", "new"];
    const all: RunSummary[] = [];
    let held = false;
    for (const project of selectProjects(runtime, values.project)) {
      const claim = await claimManualRun(runtime.database.db, runtime.logger, { projectKey: project.publicKey, stream: "files", holder });
      if (claim.kind === "refused") {
        process.stderr.write(`ucledger sync: ${claim.message}: not started\n`);
        held = true;
        continue;
      }
      const bar = values.json || !process.stderr.isTTY ? undefined : progressBar(project.publicKey);
      try {
        const summaries = await claim.run(
          (lease) => streams.files(project.publicKey, lanes, { ...lease, by: holder, logger: runtime.logger, onPage: bar?.update }),
          (runs) => failureOf("ucledger sync files", runs),
        );
        all.push(...summaries);
      } finally {
        bar?.stop();
      }
    }
    const synced = overallStatus(all);
    const status = held && synced === "ok" ? "skipped" : synced;
    const total = {
      stream: "files",
      status,
      pages: sum(all, "pages"),
      seen: sum(all, "seen"),
      inserted: sum(all, "inserted"),
      changed: sum(all, "changed"),
      duration_ms: Date.now() - started,
    };
    if (values.json) {
      process.stdout.write(`${JSON.stringify(total)}\n`);
    } else {
      for (const s of all) {
        process.stdout.write(
          `${s.projectKey} ${s.lane}: ${s.status}, ${s.pages} pages, ${s.seen} seen, ${s.inserted} new, ${s.changed} changed${s.error ? ` (${s.error})` : ""}\n`,
        );
      }
    }
    return status === "ok" ? 0 : held && synced === "ok" ? EXIT_HELD : 1;
  });
}

function sum(runs: RunSummary[], key: "pages" | "seen" | "inserted" | "changed"): number {
  return runs.reduce((total, run) => total + run[key], 0);
}

/** Files per second and an ETA from Uploadcare's totals, on stderr. */
function progressBar(projectKey: string) {
  const bar = new SingleBar(
    { format: `${projectKey} {lane} [{bar}] {value}/{total} files | {speed} files/s | ETA {eta_formatted}`, stream: process.stderr, etaBuffer: 20 },
    Presets.shades_classic,
  );
  let started = false;
  let startedAt = Date.now();
  let lane = "";
  return {
    update(progress: PageProgress) {
      if (!started || lane !== progress.lane) {
        if (started) bar.stop();
        lane = progress.lane;
        startedAt = Date.now();
        bar.start(progress.expected ?? progress.seen, 0, { lane, speed: 0 });
        started = true;
      }
      if (progress.expected !== null) bar.setTotal(Math.max(progress.expected, progress.seen));
      const seconds = Math.max(0.001, (Date.now() - startedAt) / 1000);
      bar.update(progress.seen, { lane, speed: Math.round(progress.seen / seconds) });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
