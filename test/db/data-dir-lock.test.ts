import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockDataDir } from "../../src/db/data-dir-lock.ts";
import { ConfigError } from "../../src/errors.ts";

describe("lockDataDir", () => {
  it("refuses a second holder while the first lives, and frees the lock on release", () => {
    const dir = mkdtempSync(join(tmpdir(), "ucl-lock-"));
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(ConfigError);
    expect(() => lockDataDir(dir)).toThrow(/already open in this process/);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
    lockDataDir(dir).release();
  });

  it("names the live process that holds the lock", () => {
    const dir = mkdtempSync(join(tmpdir(), "ucl-lock-"));
    // The parent of this test process is alive for the whole test.
    writeFileSync(join(dir, "ucledger.lock"), String(process.ppid));
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by another ucledger process \\(pid ${process.ppid}`));
  });

  it("takes over the lock of a process that died without releasing it", () => {
    const dir = mkdtempSync(join(tmpdir(), "ucl-lock-"));
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
    writeFileSync(join(dir, "ucledger.lock"), dead);
    const lock = lockDataDir(dir);
    expect(lock.path).toBe(join(dir, "ucledger.lock"));
    lock.release();
  });
});
