import { SingleBar, Presets } from "cli-progress";
import { AppError, ConfigError, EXIT_CONFIG } from "../errors.ts";
import { createStreams, runManualSync, type ManualStream, type ManualSync } from "../jobs.ts";
import { manualHolder } from "../scheduler/exclusion.ts";
import { overallStatus, type FilesLane } from "../sync/files/sync-files.ts";
import type { PageProgress } from "../sync/files/lane-deps.ts";
import type { RunSummary } from "../sync/runs.ts";
import { remoteLines } from "./remote.ts";
import { parseFlags, remoteServer, selectProjects, withRuntime } from "./runtime.ts";

const USAGE = "usage: ucledger sync files [--project KEY] [--full] [--json]\n       ucledger sync usage [--project KEY] [--json]";

/** Exit code when a project's stream was not synced because another run of it was going. */
export const EXIT_HELD = 3;

type Progress = { update(progress: PageProgress): void; stop(): void };

/**
 * `ucledger sync files|usage`: one pass of the stream now. Each project's pass
 * takes the stream's claim like a scheduled run, so it never overlaps one (or
 * the API's, or another CLI's); a project whose stream is held is not synced,
 * with a line on stderr naming the holder, and the command exits EXIT_HELD.
 * While a server holds the data directory, the server runs the pass.
 */
export async function syncCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    { project: { type: "string" }, full: { type: "boolean" }, json: { type: "boolean" } },
    "sync",
  );
  const stream = positionals[0];
  if ((stream !== "files" && stream !== "usage") || positionals.length > 1) {
    process.stderr.write(`ucledger sync: unknown stream '${positionals.join(" ")}'\n${USAGE}\n`);
    return EXIT_CONFIG;
  }
  if (values.full && stream !== "files") throw new ConfigError("--full: only the files stream has a full scan");
  const started = Date.now();
  const bars = new Map<string, Progress>();
  const onPage = (projectKey: string, progress: PageProgress) => {
    if (values.json || !process.stderr.isTTY) return;
    let bar = bars.get(projectKey);
    if (!bar) bars.set(projectKey, (bar = progressBar(projectKey)));
    bar.update(progress);
  };
  const onProjectDone = (projectKey: string) => bars.get(projectKey)?.stop();
  const server = remoteServer();
  if (server) {
    let result: ManualSync | undefined;
    for await (const line of remoteLines<RemoteSyncLine>(server, "POST", `/v1/cli/sync/${stream}`, { project: values.project, full: values.full })) {
      if (line.type === "progress") onPage(line.projectKey, line);
      else if (line.type === "held") result = { summaries: [], held: [...(result?.held ?? []), line.message] };
      else if (line.type === "done") result = { summaries: line.summaries, held: result?.held ?? [] };
      else throw new AppError("INTERNAL_SERVER_ERROR", line.message);
    }
    for (const bar of bars.values()) bar.stop();
    if (!result) throw new AppError("INTERNAL_SERVER_ERROR", `the server at ${server.url} ended the sync without an answer`);
    return report(stream, result, values.json ?? false, started);
  }
  return withRuntime(async (runtime) => {
    const projectKeys = selectProjects(runtime, values.project).map((p) => p.publicKey);
    const holder = manualHolder("cli");
    const input: ManualStream =
      stream === "files" ? { stream, lanes: values.full ? ["webhooks", "new", "reconcile"] : ["webhooks", "new"] } : { stream: "usage" };
    const result = await runManualSync(runtime, createStreams(runtime), { ...input, projectKeys, holder, onPage, onProjectDone });
    return report(stream, result, values.json ?? false, started);
  });
}

type RemoteSyncLine =
  | ({ type: "progress"; projectKey: string } & PageProgress)
  | { type: "held"; message: string }
  | { type: "done"; summaries: RunSummary[] }
  | { type: "error"; message: string };

/** The lines and exit code of a pass, the same whether this process or the server ran it. */
function report(stream: string, result: ManualSync, json: boolean, started: number): number {
  for (const message of result.held) process.stderr.write(`ucledger sync: ${message}: not started\n`);
  const all = result.summaries;
  const held = result.held.length > 0;
  const synced = overallStatus(all);
  const status = held && synced === "ok" ? "skipped" : synced;
  const total = {
    stream,
    status,
    pages: sum(all, "pages"),
    seen: sum(all, "seen"),
    inserted: sum(all, "inserted"),
    changed: sum(all, "changed"),
    duration_ms: Date.now() - started,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(total)}\n`);
  } else {
    for (const s of all) {
      process.stdout.write(
        `${s.projectKey} ${s.lane}: ${s.status}, ${s.pages} pages, ${s.seen} seen, ${s.inserted} new, ${s.changed} changed${s.error ? ` (${s.error})` : ""}\n`,
      );
    }
  }
  return status === "ok" ? 0 : held && synced === "ok" ? EXIT_HELD : 1;
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
