import { MIME_KINDS, pickKind, pickSize } from "./catalog.ts";
import { REMOVED, STORED, UNSTORED, UNSTORED_TTL_US, type FileStatus, type FileTable } from "./file-table.ts";
import { Prng, hashInts } from "./prng.ts";
import { US_PER_DAY, US_PER_S } from "./time.ts";
import { formatUuid } from "./uuid.ts";

// The generated project: keys, files and groups, all from one seed.

export interface SandboxKeys {
  publicKey: string;
  secretKey: string;
  projectApiToken: string;
  /** A signing secret the user passes when subscribing a webhook. */
  webhookSecret: string;
  /** Integer project id, as in webhook objects and payloads. */
  projectId: number;
  projectName: string;
}

export function deriveKeys(seed: number): SandboxKeys {
  const rng = new Prng(hashInts(seed, 0x6b657973));
  return {
    // Real public and secret keys are 20 lower-case hex characters.
    publicKey: rng.hex(20),
    secretKey: rng.hex(20),
    projectApiToken: `ucpat_${rng.alnum(40)}`,
    // Uploadcare allows at most 32 characters; its examples use 20 alphanumerics.
    webhookSecret: rng.alnum(24),
    projectId: rng.int(10_000, 99_999),
    projectName: `ucledger-sandbox-${seed}`,
  };
}

export const HISTORY_DAYS = 400;

/**
 * Appends `count` files uploaded over the last 400 days (more of them
 * recently), with about 1% of upload times shared by a run of 2–12 files, so
 * pagination has ties to cope with. Unstored files are all younger than 24 h,
 * because older ones would already have expired.
 */
export function generateFiles(table: FileTable, seed: number, count: number, nowUs: number): void {
  if (count <= 0) return;
  const rng = new Prng(hashInts(seed, 0x66696c65));
  const spanUs = HISTORY_DAYS * US_PER_DAY;
  const endUs = nowUs - 5 * US_PER_S;
  const startUs = endUs - spanUs;

  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) times[i] = startUs + Math.floor(Math.pow(rng.float(), 0.8) * spanUs);
  times.sort();
  for (let i = 0; i < count; ) {
    const run = rng.chance(0.01) ? rng.int(2, 12) : 1;
    for (let k = 1; k < run && i + k < count; k++) times[i + k] = times[i] as number;
    i += run;
  }

  table.reserve(table.count + count);
  for (let i = 0; i < count; i++) {
    const uploadedUs = times[i] as number;
    const kindIndex = pickKind(rng);
    const size = pickSize(rng, MIME_KINDS[kindIndex] as (typeof MIME_KINDS)[number]);
    const ageUs = nowUs - uploadedUs;
    let status: FileStatus;
    if (ageUs < UNSTORED_TTL_US) status = rng.weighted([[UNSTORED, 35], [STORED, 60], [REMOVED, 5]] as const);
    else status = rng.chance(0.86) ? STORED : REMOVED;
    // Autostore stores within a second or two; a tenth are stored later through the API.
    let storedUs = uploadedUs + rng.int(100_000, 2_000_000);
    if (rng.chance(0.1)) storedUs = Math.min(nowUs - 1, uploadedUs + rng.float() * Math.min(ageUs, 30 * US_PER_DAY));
    // Half of the removed files are expired temporaries, the rest deleted through the API.
    let removedUs: number;
    if (ageUs >= UNSTORED_TTL_US && rng.chance(0.5)) removedUs = uploadedUs + UNSTORED_TTL_US;
    else removedUs = Math.min(nowUs - 1, uploadedUs + Math.floor(rng.float() * ageUs));
    table.append(rng.uuidWords(), uploadedUs, size, kindIndex, status, Math.floor(storedUs), removedUs);
  }
  table.rebuildOrder();
}

export interface Group {
  id: string;
  createdUs: number;
  files: number[];
}

/** A few groups of 1–5 files uploaded together, as the Upload API makes them. */
export function generateGroups(table: FileTable, seed: number): Group[] {
  const n = table.orderLen;
  if (n === 0) return [];
  const rng = new Prng(hashInts(seed, 0x67727073));
  const count = Math.min(12, Math.ceil(n / 200));
  const groups: Group[] = [];
  for (let g = 0; g < count; g++) {
    const size = Math.min(rng.int(1, 5), n);
    const startPos = rng.int(0, n - size);
    const files: number[] = [];
    for (let k = 0; k < size; k++) files.push(table.order[startPos + k] as number);
    const lastUs = table.uploaded[files[files.length - 1] as number] as number;
    const [w0, w1, w2, w3] = rng.uuidWords();
    const uuid = formatUuid(w0, w1, w2, w3);
    groups.push({ id: `${uuid}~${size}`, createdUs: lastUs + rng.int(50_000, 900_000), files });
  }
  groups.sort((a, b) => a.createdUs - b.createdUs || (a.id < b.id ? -1 : 1));
  return groups;
}
