import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { transformed } from "../../src/sandbox/copy-routes.ts";
import { sandboxApi } from "../support/uploadcare.ts";

describe("the sandbox's local copies with CDN operations", () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox({ files: 10, seed: 5 });
  });
  afterAll(() => sandbox?.close());

  it("re-encodes a PNG as a smaller WebP, the same size every time, and keeps a plain copy as it is", async () => {
    const [png] = sandbox.upload({ count: 1, mimeType: "image/png", size: 2_000_000, originalFilename: "photo.png", stored: true });
    const copy = await sandboxApi(sandbox, "POST", "/files/local_copy/", { source: `${png}/-/format/webp/-/quality/smart/`, store: "true", metadata: { of: png! } });
    expect(copy.status).toBe(201);
    const uuid = (copy.json as { result: { uuid: string } }).result.uuid;
    const read = (await sandboxApi(sandbox, "GET", `/files/${uuid}/`)).json as { mime_type: string; size: number; original_filename: string; metadata: Record<string, string>; datetime_stored: string | null };
    expect(read).toMatchObject({ mime_type: "image/webp", original_filename: "photo.webp", metadata: { of: png } });
    expect(read.datetime_stored).not.toBeNull();
    expect(read.size).toBeGreaterThan(2_000_000 * 0.22 * 0.9 - 1);
    expect(read.size).toBeLessThan(2_000_000 * 0.42);
    const again = transformed({ uuid: png!, mime: "image/png", size: 2_000_000, filename: "photo.png" }, "-/format/webp/-/quality/smart/");
    expect(again.size).toBe(read.size);

    const plain = await sandboxApi(sandbox, "POST", "/files/local_copy/", { source: png, store: "true" });
    const plainUuid = (plain.json as { result: { uuid: string } }).result.uuid;
    expect((await sandboxApi(sandbox, "GET", `/files/${plainUuid}/`)).json).toMatchObject({ mime_type: "image/png", size: 2_000_000 });
  });

  it("refuses operations on a source over 100 MB", async () => {
    const [big] = sandbox.upload({ count: 1, mimeType: "image/png", size: 101 * 1024 ** 2, stored: true });
    const res = await sandboxApi(sandbox, "POST", "/files/local_copy/", { source: `${big}/-/format/webp/`, store: "true" });
    expect(res).toEqual({ status: 400, json: { detail: "Copying of large files is not supported at the moment." } });
  });
});
