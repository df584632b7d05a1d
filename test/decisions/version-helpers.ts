import type { Sandbox } from "../../src/sandbox/index.ts";

export const WEBP = "-/format/webp/-/quality/smart/";

/** Old PNGs in groups of 50 with distinct upload times. */
export function uploadPngs(sandbox: Sandbox, count: number, batch: string, size?: number): string[] {
  const uuids: string[] = [];
  const base = Date.now() - 240 * 3_600_000;
  for (let i = 0; i < count; i += 50) {
    const at = new Date(base + i * 1000).toISOString();
    uuids.push(
      ...sandbox.upload({ count: Math.min(50, count - i), stored: true, mimeType: "image/png", originalFilename: "photo.png", metadata: { ucl_batch: batch }, datetimeUploaded: at, ...(size ? { size } : {}) }),
    );
  }
  return uuids;
}

export function versionPolicy(name: string, batch: string, deleteOriginal = true) {
  return {
    name,
    action: "version" as const,
    conditions: [
      { kind: "mime" as const, types: ["image/png"] },
      { kind: "metadata" as const, key: "ucl_batch", op: "equals" as const, value: batch },
    ],
    versionSpec: { operations: WEBP, deleteOriginal },
  };
}
