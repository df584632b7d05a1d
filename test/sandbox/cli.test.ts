import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { sandboxCommand } from "../../src/cli/sandbox.ts";

function nextLine(chunks: string[]): Promise<string> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const text = chunks.join("");
      if (text.includes("\n")) {
        clearInterval(timer);
        resolve(text.slice(0, text.indexOf("\n")));
      }
    }, 10);
  });
}

describe("ucledger sandbox", () => {
  it("prints exactly one JSON line with --json, serves, and stops with 0", async () => {
    const out: string[] = [];
    const stop = new AbortController();
    const done = sandboxCommand(["--port", "0", "--files", "100", "--seed", "5", "--json", "--throttle-rate", "0"], {
      stdout: (t) => out.push(t),
      stderr: (t) => out.push(`ERR ${t}`),
      signal: stop.signal,
    });
    const line = await nextLine(out);
    const info = JSON.parse(line);
    expect(Object.keys(info)).toEqual(["url", "publicKey", "secretKey", "projectApiToken", "webhookSecret"]);
    expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${info.url}/files/?limit=1`, {
      headers: { Accept: "application/vnd.uploadcare-v0.7+json", Authorization: `Uploadcare.Simple ${info.publicKey}:${info.secretKey}` },
    });
    expect(((await res.json()) as { total: number }).total).toBeGreaterThan(0);
    stop.abort();
    expect(await done).toBe(0);
    expect(out.join("")).toBe(`${line}\n`);
  });

  it("prints the keys in human form without --json", async () => {
    const out: string[] = [];
    const stop = new AbortController();
    const done = sandboxCommand(["--port", "0", "--files", "0"], { stdout: (t) => out.push(t), signal: stop.signal });
    await nextLine(out);
    stop.abort();
    expect(await done).toBe(0);
    const text = out.join("");
    for (const label of ["public key:", "secret key:", "Project API token:", "webhook signing secret:", "http://127.0.0.1:"]) expect(text).toContain(label);
  });

  it.each([
    [["--bogus"], "--bogus"],
    [["--port", "abc"], "--port"],
    [["--error-rate", "2"], "--error-rate"],
    [["--files", "-1"], "--files"],
    [["--retry-after-s", "1.5"], "--retry-after-s"],
  ])("refuses %j with a one-line error naming the flag and exit code 2", async (argv, flag) => {
    const err: string[] = [];
    expect(await sandboxCommand(argv, { stdout: () => undefined, stderr: (t) => err.push(t) })).toBe(2);
    expect(err.join("").split("\n")[0]).toContain(flag);
  });

  it("stops on SIGTERM in its own process", async () => {
    const script = 'import { sandboxCommand } from "./src/cli/sandbox.ts"; process.exitCode = await sandboxCommand(["--port", "0", "--json", "--files", "10"]);';
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: process.cwd(), stdio: ["ignore", "pipe", "pipe"] });
    const out: string[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d.toString()));
    const line = await nextLine(out);
    expect(JSON.parse(line).url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });
});
