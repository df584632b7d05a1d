/**
 * What every contender of `npm run bench:sync` shares: its arguments (the
 * sandbox and the database, as JSON in argv), and one JSON line of results on
 * stdout, with this process's own peak RSS.
 */
import { rssSampler } from "../support.ts";

export interface ContenderArgs {
  sandbox: { url: string; publicKey: string; secretKey: string; projectApiToken: string };
  databaseUrl: string;
}

export function contenderArgs(): ContenderArgs {
  const raw = process.argv[2];
  if (!raw) throw new Error("usage: tsx bench/sync-contenders/<name>.ts '<json args>'");
  return JSON.parse(raw) as ContenderArgs;
}

/** Runs the contender's work, timing it and sampling RSS, and prints the result line. */
export async function measure(work: () => Promise<Record<string, unknown>>): Promise<void> {
  const baseMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
  const rss = rssSampler(10);
  const started = performance.now();
  const extra = await work();
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, peakMb: rss.stop(), baseMb, ...extra })}\n`);
}
