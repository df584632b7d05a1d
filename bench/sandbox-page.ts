// Sandbox page benchmark: 1,000,000 generated files in-process, then ~200
// pages of 1000 files over HTTP with signed auth, from various `from`
// positions and filters. Prints generation time, RSS and per-page latency.
// Run: npx tsx bench/sandbox-page.ts   (not a timed test)
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import { startSandbox, type Sandbox } from "../src/sandbox/index.ts";

const FILES = Number(process.env["BENCH_FILES"] ?? 1_000_000);
const PAGES = Number(process.env["BENCH_PAGES"] ?? 200);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function signedGet(sb: Sandbox, uri: string): Promise<{ status: number; bytes: number; body: string }> {
  const date = new Date().toUTCString();
  const md5 = createHash("md5").update("").digest("hex");
  const signature = createHmac("sha1", sb.secretKey).update(["GET", md5, "application/json", date, uri].join("\n")).digest("hex");
  const url = new URL(sb.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: uri,
        agent,
        headers: {
          Accept: "application/vnd.uploadcare-v0.7+json",
          "Content-Type": "application/json",
          "X-Uploadcare-Date": date,
          Authorization: `Uploadcare ${sb.publicKey}:${signature}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, bytes: body.length, body: body.toString("utf8") });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

const rssBefore = process.memoryUsage().rss;
const started = performance.now();
const sb = await startSandbox({ files: FILES, seed: 42 });
const generationMs = performance.now() - started;
(globalThis as { gc?: () => void }).gc?.();
const mem = process.memoryUsage();
console.log(`generated ${FILES.toLocaleString("en")} files in ${(generationMs / 1000).toFixed(2)} s`);
console.log(`RSS ${mb(mem.rss)} (before: ${mb(rssBefore)}), heap used ${mb(mem.heapUsed)}, array buffers ${mb(mem.arrayBuffers)}`);

// `from` positions spread over the 400-day history; a third with stored=true, a sixth with removed=true,
// and every fourth request follows the previous page's `next` link.
const nowMs = Date.now();
const times: number[] = [];
const serverTimes: number[] = [];
let bytes = 0;
let previousNext: string | null = null;
let x = 12345;
for (let i = 0; i < PAGES; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  const daysBack = (x / 2 ** 32) * 400;
  const from = new Date(nowMs - daysBack * 86_400_000).toISOString();
  const filter = i % 6 === 5 ? "&removed=true" : i % 3 === 1 ? "&stored=true" : "";
  const ordering = i % 10 === 9 ? "&ordering=-datetime_uploaded" : "";
  const uri: string = i % 4 === 3 && previousNext ? previousNext : `/files/?limit=1000${filter}${ordering}&from=${encodeURIComponent(from)}`;
  const t0 = performance.now();
  const res = await signedGet(sb, uri);
  const elapsed = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${uri} → ${res.status} ${res.body.slice(0, 200)}`);
  const page = JSON.parse(res.body) as { next: string | null; results: unknown[] };
  previousNext = page.next ? page.next.slice(sb.url.length) : null;
  times.push(elapsed);
  bytes += res.bytes;
}
for (const r of sb.requests()) serverTimes.push(r.duration_ms);
times.sort((a, b) => a - b);
serverTimes.sort((a, b) => a - b);
const fmt = (t: number[]) =>
  `p50 ${percentile(t, 50).toFixed(1)} ms, p95 ${percentile(t, 95).toFixed(1)} ms, p99 ${percentile(t, 99).toFixed(1)} ms, max ${(t[t.length - 1] as number).toFixed(1)} ms`;
console.log(`${PAGES} pages of up to 1000 files (signed auth), ${(bytes / PAGES / 1024).toFixed(0)} KB per page on average`);
console.log(`client (request → full body): ${fmt(times)}`);
console.log(`server (handler, from the request log): ${fmt(serverTimes)}`);
console.log(`RSS after paging: ${mb(process.memoryUsage().rss)}`);
agent.destroy();
await sb.close();
