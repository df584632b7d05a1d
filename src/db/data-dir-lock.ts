import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.ts";

/**
 * PGlite does not lock its data directory: a second process opening it would
 * corrupt the data. This pid file makes the second process fail instead.
 *
 * Hand-written rather than `proper-lockfile`: that library decides staleness by
 * mtime age, so after a crash (or SIGKILL) a restart is refused until the lock
 * ages out. Here the holder's pid is checked directly: a dead holder's lock is
 * taken over at once, a live one is never stolen.
 */
export interface DataDirLock {
  path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the pid lock file at `path`, or names the live process holding it. A dead holder's lock is taken over. */
export function takePidLock(path: string): { lock: DataDirLock } | { holder: number } {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        lock: {
          path,
          release() {
            if (released) return;
            released = true;
            try {
              unlinkSync(path);
            } catch {
              // Already gone: nothing to release.
            }
          },
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = readHolder(path);
      if (holder === undefined) {
        // Another process created the file and has not written its pid yet.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        continue;
      }
      if (holder > 0 && (holder === process.pid || isAlive(holder))) return { holder };
      // The holder is gone (crash, SIGKILL): its lock is stale.
      try {
        unlinkSync(path);
      } catch {
        // Another process took it over first.
      }
    }
  }
  throw new ConfigError(`could not take the lock file ${path}`);
}

function readHolder(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) ? pid : undefined;
}

/** The live process (not this one) holding the data directory's lock, if any. */
export function dataDirHolder(dataDir: string): number | undefined {
  const holder = readHolder(join(dataDir, LOCK_FILE));
  return holder !== undefined && holder > 0 && holder !== process.pid && isAlive(holder) ? holder : undefined;
}

const LOCK_FILE = "ucledger.lock";

export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  let taken: ReturnType<typeof takePidLock>;
  try {
    taken = takePidLock(path);
  } catch {
    throw new ConfigError(`UCLEDGER_DATA_DIR: could not take the lock file ${path}`);
  }
  if ("lock" in taken) return taken.lock;
  if (taken.holder === process.pid) throw new ConfigError(`UCLEDGER_DATA_DIR: ${dataDir} is already open in this process`);
  throw new ConfigError(
    `UCLEDGER_DATA_DIR: ${dataDir} is in use by another ucledger process (pid ${taken.holder}, lock file ${path}); stop it first, or set DATABASE_URL to share a PostgreSQL server between instances`,
  );
}
