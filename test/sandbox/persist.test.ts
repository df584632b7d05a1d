import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox, type SandboxOptions } from "../../src/sandbox/index.ts";
import { control, raw } from "./helpers.ts";

const EPOCH_MS = Date.parse("2026-11-20T12:00:00Z");

/** Every file as the REST API lists it, removed ones included, in listing order. */
async function listing(sb: Sandbox): Promise<Record<string, unknown>[]> {
  const files: Record<string, unknown>[] = [];
  let uri: string | null = "/files/?limit=1000&removed=true&include=appdata";
  for (const removed of ["true", "false"]) {
    uri = `/files/?limit=1000&removed=${removed}&include=appdata`;
    while (uri) {
      const page = (await raw(sb, uri)).json() as { next: string | null; results: Record<string, unknown>[] };
      files.push(...page.results);
      uri = page.next ? new URL(page.next).pathname + new URL(page.next).search : null;
    }
  }
  return files;
}

describe("a sandbox with a state file", () => {
  const opened: Sandbox[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const sb of opened.splice(0)) await sb.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const start = async (options: SandboxOptions) => {
    const sb = await startSandbox(options);
    opened.push(sb);
    return sb;
  };

  it("answers the same after a restart, on another port, with every change made through it kept", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ucl-sbstate-"));
    dirs.push(dir);
    const options = { files: 300, seed: 9, epochMs: EPOCH_MS, stateFile: join(dir, "state.json"), fileUrlBase: "http://127.0.0.1:1" };
    const first = await start(options);
    const [uploaded] = first.upload({ metadata: { team: "a" } });
    const live = (await listing(first)).filter((f) => f["datetime_removed"] === null);
    const deleted = live[0]!["uuid"] as string;
    const stored = live.find((f) => f["datetime_stored"] === null)?.["uuid"] as string | undefined;
    expect((await raw(first, `/files/${deleted}/storage/`, { method: "DELETE" })).status).toBe(200);
    if (stored) expect((await raw(first, `/files/${stored}/storage/`, { method: "PUT" })).status).toBe(200);
    expect((await raw(first, `/files/${uploaded}/metadata/team/`, { method: "PUT", body: JSON.stringify("b") })).status).toBe(200);
    expect((await raw(first, "/webhooks/", { method: "POST", body: { target_url: "https://example.com/hook", event: "file.uploaded" } })).status).toBe(201);
    const before = await listing(first);
    const hooks = (await raw(first, "/webhooks/")).json();
    await first.close();

    const second = await start(options);
    expect(second.url).not.toBe("");
    expect(await listing(second)).toEqual(before);
    expect((await raw(second, "/webhooks/")).json()).toEqual(hooks);
    expect((await raw(second, `/files/${uploaded}/metadata/team/`)).json()).toBe("b");
    expect((before.find((f) => f["uuid"] === deleted) as { datetime_removed: unknown }).datetime_removed).not.toBeNull();
    // The files' url keeps the given origin, whatever port the sandbox got.
    expect(before.every((f) => String(f["url"]).startsWith("http://127.0.0.1:1/files/"))).toBe(true);
    // New uploads after the restart get new uuids, not the first run's again.
    const [next] = second.upload();
    expect(next).not.toBe(uploaded);
  });

  it("generates the same history from the same epoch, whenever it starts, and a new one for another epoch", async () => {
    const a = await start({ files: 200, seed: 5, epochMs: EPOCH_MS });
    const b = await start({ files: 200, seed: 5, epochMs: EPOCH_MS });
    const c = await start({ files: 200, seed: 5, epochMs: EPOCH_MS + 86_400_000 });
    const strip = (files: Record<string, unknown>[]) => files.map(({ url: _url, ...rest }) => rest);
    expect(strip(await listing(a))).toEqual(strip(await listing(b)));
    expect(strip(await listing(c))).not.toEqual(strip(await listing(a)));
  });

  it("starts afresh when the state file belongs to another epoch, and refuses one that is not JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ucl-sbstate-"));
    dirs.push(dir);
    const stateFile = join(dir, "state.json");
    const first = await start({ files: 50, seed: 3, epochMs: EPOCH_MS, stateFile });
    first.upload({ count: 3 });
    const control50 = (await control(first, "GET", "/")).totals;
    await first.close();
    const other = await start({ files: 50, seed: 3, epochMs: EPOCH_MS + 1000, stateFile });
    expect((await control(other, "GET", "/")).totals).not.toEqual(control50);
    await other.close();
    writeFileSync(stateFile, "{not json");
    await expect(startSandbox({ files: 50, seed: 3, epochMs: EPOCH_MS, stateFile })).rejects.toThrow(/not valid JSON/);
  });
});
