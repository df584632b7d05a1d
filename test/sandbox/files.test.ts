import {
  copyFileToLocalStorage, copyFileToRemoteStorage, deleteFile, deleteFiles, deleteMetadata, fileInfo, getMetadata, getMetadataValue,
  groupInfo, isRestClientError, listOfGroups, storeFile, storeFiles, updateMetadata,
} from "@uploadcare/rest-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REMOTE_BUCKET, REMOTE_STORAGE_NAME, startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { authSchemes, control, raw, sdkSettings } from "./helpers.ts";

let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({ files: 3000, seed: 11 });
});

afterAll(() => sb.close());

const MISSING = "21975c81-7f57-4c7a-aef9-acfe28779f78";

async function rejection(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (e) {
    if (isRestClientError(e)) return e;
    throw e;
  }
  throw new Error("expected the call to fail");
}

/** All files of the first pages (with appdata), to pick examples from. */
async function someFiles(): Promise<any[]> {
  const page = (await raw(sb, "/files/?limit=1000&include=appdata")).json();
  const page2 = (await raw(sb, page.next.slice(sb.url.length))).json();
  return [...page.results, ...page2.results];
}

describe.each([0, 1] as const)("files through the SDK (%s: 0 simple, 1 signed)", (scheme) => {
  const settings = () => sdkSettings(sb, authSchemes(sb)[scheme][1]);

  it("fileInfo returns the file, with appdata only when asked", async () => {
    const files = await someFiles();
    const withAppdata = files.find((f) => Object.keys(f.appdata).length > 0);
    const plain = await fileInfo({ uuid: withAppdata.uuid }, settings());
    expect(plain.uuid).toBe(withAppdata.uuid);
    expect("appdata" in plain).toBe(false);
    const full = await fileInfo({ uuid: withAppdata.uuid, include: "appdata" }, settings());
    // appdata keeps its snake_case keys through the SDK (CAMELIZE_IGNORE_KEYS).
    const [addon] = Object.values(full.appdata as Record<string, { datetime_created: string }>);
    expect(addon?.datetime_created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const missing = await rejection(fileInfo({ uuid: MISSING }, settings()));
    expect(missing.status).toBe(404);
    expect(missing.message).toBe("[404 Not Found] Not found.");
  });

  it("stores and deletes in batches, reporting problems", async () => {
    const { uuids } = await control(sb, "POST", "/files", { count: 3, stored: false });
    const stored = await storeFiles({ uuids: [...uuids, MISSING, "4j334o01-8bs3"] }, settings());
    expect(stored.status).toBe("ok");
    expect(stored.result.map((f) => f.uuid).sort()).toEqual([...uuids].sort());
    expect(stored.result.every((f) => f.datetimeStored !== null)).toBe(true);
    expect(stored.problems).toEqual({ [MISSING]: "Missing in the project", "4j334o01-8bs3": "Invalid" });
    const deleted = await deleteFiles({ uuids: [uuids[0], MISSING] }, settings());
    expect(deleted.result[0]).toMatchObject({ uuid: uuids[0], datetimeStored: null, originalFileUrl: null });
    expect(deleted.result[0]?.datetimeRemoved).toMatch(/Z$/);
    expect(deleted.problems).toEqual({ [MISSING]: "Missing in the project" });
    // A deleted file still answers 200 and can no longer be stored.
    expect((await fileInfo({ uuid: uuids[0] }, settings())).datetimeRemoved).not.toBeNull();
    expect((await storeFiles({ uuids: [uuids[0]] }, settings())).problems).toEqual({ [uuids[0]]: "Missing in the project" });
  });

  it("answers the three batch 400s", async () => {
    expect((await rejection(storeFiles({ uuids: [] }, settings()))).message).toContain("List of UUIDs can not be empty");
    const tooMany = Array.from({ length: 101 }, () => MISSING);
    expect((await rejection(deleteFiles({ uuids: tooMany }, settings()))).message).toContain("Maximum UUIDs per request is exceeded. The limit is 100");
    const res = await raw(sb, "/files/storage/", { method: "PUT", body: { uuids: [MISSING] } });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ detail: "Expected list of UUIDs" });
  });

  it("stores and deletes single files", async () => {
    const { uuids } = await control(sb, "POST", "/files", { count: 1, stored: false });
    const uuid = uuids[0];
    const stored = await storeFile({ uuid }, settings());
    expect(stored.datetimeStored).not.toBeNull();
    const removed = await deleteFile({ uuid }, settings());
    expect(removed.datetimeRemoved).not.toBeNull();
    expect(removed.datetimeStored).toBeNull();
    expect(removed.originalFileUrl).toBeNull();
    expect(removed.size).toBe(stored.size);
    const listed = (await raw(sb, "/files/?removed=true&ordering=-datetime_uploaded&limit=5")).json();
    expect(listed.results.map((f: { uuid: string }) => f.uuid)).toContain(uuid);
    expect((await rejection(storeFile({ uuid: MISSING }, settings()))).status).toBe(404);
  });

  it("does metadata CRUD with bare string values and 201/200/204", async () => {
    const { uuids } = await control(sb, "POST", "/files", { count: 1, metadata: { pet: "cat" } });
    const uuid = uuids[0];
    expect(await getMetadata({ uuid }, settings())).toEqual({ pet: "cat" });
    const created = await raw(sb, `/files/${uuid}/metadata/-:45az_/`, { method: "PUT", body: JSON.stringify("new value") });
    expect(created.status).toBe(201);
    expect(created.json()).toBe("new value");
    const updated = await raw(sb, `/files/${uuid}/metadata/pet/`, { method: "PUT", body: JSON.stringify("dog") });
    expect(updated.status).toBe(200);
    expect(await updateMetadata({ uuid, key: "pet", value: "fish" }, settings())).toBe("fish");
    expect(await getMetadataValue({ uuid, key: "pet" }, settings())).toBe("fish");
    expect(await deleteMetadata({ uuid, key: "pet" }, settings())).toBeUndefined();
    expect(await getMetadata({ uuid }, settings())).toEqual({ "-:45az_": "new value" });
    expect((await rejection(getMetadataValue({ uuid, key: "pet" }, settings()))).status).toBe(404);
    expect((await raw(sb, `/files/${uuid}/metadata/bad%20key%21/`, { method: "PUT", body: JSON.stringify("x") })).status).toBe(400);
    expect((await raw(sb, `/files/${uuid}/metadata/${"k".repeat(65)}/`, { method: "PUT", body: JSON.stringify("x") })).status).toBe(400);
    expect((await raw(sb, `/files/${uuid}/metadata/long/`, { method: "PUT", body: JSON.stringify("v".repeat(513)) })).status).toBe(400);
    expect((await raw(sb, `/files/${uuid}/metadata/obj/`, { method: "PUT", body: { value: "x" } })).status).toBe(400);
    expect((await raw(sb, `/files/${uuid}/metadata/empty/`, { method: "PUT", body: JSON.stringify("") })).status).toBe(400);
  });

  it("makes a local copy: 201, copy-in-progress shape, then the real file", async () => {
    const [source] = (await someFiles()).filter((f) => f.is_image && f.datetime_removed === null);
    const copy = await copyFileToLocalStorage({ source: source.uuid, store: true, metadata: { origin: "copy" } }, settings());
    expect(copy.type).toBe("file");
    expect(copy.result).toMatchObject({ size: 0, mimeType: "application/octet-stream", isImage: null, contentInfo: null, metadata: { origin: "copy" } });
    expect(copy.result.uuid).not.toBe(source.uuid);
    const later = await fileInfo({ uuid: copy.result.uuid }, settings());
    expect(later.size).toBe(source.size);
    expect(later.mimeType).toBe(source.mime_type);
    expect(later.contentInfo?.image?.width).toBe(source.content_info.image.width);
    expect(later.datetimeStored).not.toBeNull();
    const bad = await rejection(copyFileToLocalStorage({ source: MISSING }, settings()));
    expect(bad.message).toContain("Bad `source` parameter. Use UUID or CDN URL.");
  });

  it("makes a remote copy: 201, then 200 for the same target, 400 for an unknown storage", async () => {
    const { uuids } = await control(sb, "POST", "/files", { count: 1, original_filename: "roof.jpg", mime_type: "image/jpeg" });
    const uuid = uuids[0];
    const first = await raw(sb, "/files/remote_copy/", { method: "POST", body: { source: uuid, target: REMOTE_STORAGE_NAME } });
    expect(first.status).toBe(201);
    expect(first.json()).toEqual({ type: "url", result: `s3://${REMOTE_BUCKET}/${uuid}/roof.jpg` });
    const again = await copyFileToRemoteStorage({ source: `https://ucarecdn.com/${uuid}/`, target: REMOTE_STORAGE_NAME }, settings());
    expect(again).toEqual({ type: "url", result: `s3://${REMOTE_BUCKET}/${uuid}/roof.jpg` });
    const patterned = await copyFileToRemoteStorage({ source: uuid, target: REMOTE_STORAGE_NAME, pattern: "${uuid}${ext}" }, settings());
    expect(patterned.result).toBe(`s3://${REMOTE_BUCKET}/${uuid}.jpg`);
    const unknown = await rejection(copyFileToRemoteStorage({ source: uuid, target: "elsewhere" }, settings()));
    expect(unknown.status).toBe(400);
    expect(unknown.message).toContain("Project has no storage with provided name.");
    expect((await rejection(copyFileToRemoteStorage({ source: uuid, target: REMOTE_STORAGE_NAME, pattern: "${nope}" }, settings()))).status).toBe(400);
  });
});

describe("copy failures, groups, project", () => {
  it("fails copies of the sources listed in copy_fail_uuids", async () => {
    const { uuids } = await control(sb, "POST", "/files", { count: 2 });
    await control(sb, "PUT", "/faults", { copy_fail_uuids: [uuids[0]] });
    try {
      const failed = await raw(sb, "/files/remote_copy/", { method: "POST", body: { source: uuids[0], target: REMOTE_STORAGE_NAME } });
      expect(failed.status).toBe(400);
      expect(failed.json()).toEqual({ detail: "File is not ready yet." });
      await control(sb, "PUT", "/faults", { copy_fail_status: 503 });
      expect((await raw(sb, "/files/local_copy/", { method: "POST", body: { source: uuids[0] } })).status).toBe(503);
      expect((await raw(sb, "/files/remote_copy/", { method: "POST", body: { source: uuids[1], target: REMOTE_STORAGE_NAME } })).status).toBe(201);
    } finally {
      await control(sb, "DELETE", "/faults");
    }
  });

  it("lists groups and shows a group's files", async () => {
    const settings = sdkSettings(sb, authSchemes(sb)[1][1]);
    const list = await listOfGroups({ limit: 100 }, settings);
    expect(list.total).toBeGreaterThan(0);
    expect(list.results[0]?.id).toMatch(/^[0-9a-f-]{36}~\d+$/);
    const group = await groupInfo({ uuid: list.results[0]!.id }, settings);
    expect(group.filesCount).toBe(group.files.length);
    expect(group.cdnUrl).toBe(`https://ucarecdn.com/${group.id}/`);
    const raw404 = await raw(sb, "/groups/nope~1/");
    expect(raw404.status).toBe(404);
  });

  it("answers GET /project/", async () => {
    const res = await raw(sb, "/project/");
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ pub_key: sb.publicKey, autostore_enabled: true, collaborators: expect.any(Array) });
  });

  it("generates realistic files: images, videos and documents with the right content_info", async () => {
    const files = await someFiles();
    const image = files.find((f) => f.mime_type === "image/jpeg");
    expect(Object.keys(image.content_info.image).sort()).toEqual(
      ["color_mode", "datetime_original", "dpi", "format", "geo_location", "height", "orientation", "sequence", "width"],
    );
    const video = files.find((f) => f.mime_type.startsWith("video/"));
    expect(Object.keys(video.content_info.video).sort()).toEqual(["audio", "bitrate", "duration", "format", "video"]);
    const pdf = files.find((f) => f.mime_type === "application/pdf");
    expect(pdf.content_info).toEqual({ mime: { mime: "application/pdf", type: "application", subtype: "pdf" } });
    expect(pdf.is_image).toBe(false);
    expect(files.some((f) => Object.keys(f.metadata).length > 0)).toBe(true);
    expect(files.some((f) => Object.keys(f.metadata).length === 0)).toBe(true);
    expect(files.some((f) => f.appdata.uc_clamav_virus_scan?.data.infected === false)).toBe(true);
    expect(files.every((f) => f.original_file_url === null || f.original_file_url === `https://ucarecdn.com/${f.uuid}/${f.original_filename}`)).toBe(true);
    expect(files.every((f) => f.url === `${sb.url}/files/${f.uuid}/` && Array.isArray(f.tags))).toBe(true);
    expect(files.every((f) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(f.datetime_uploaded))).toBe(true);
  });

  it("writes a clean virus scan as {infected: false} without infected_with, an infected one with its name", async () => {
    const scans: Record<string, unknown>[] = [];
    for (let uri: string | null = "/files/?limit=1000&include=appdata"; uri; ) {
      const page = (await raw(sb, uri)).json();
      for (const f of page.results) if (f.appdata.uc_clamav_virus_scan) scans.push(f.appdata.uc_clamav_virus_scan.data);
      uri = page.next ? page.next.slice(sb.url.length) : null;
    }
    const clean = scans.filter((d) => d["infected"] === false);
    const infected = scans.filter((d) => d["infected"] === true);
    expect(clean.length).toBeGreaterThan(100);
    expect(infected.length).toBeGreaterThan(0);
    expect(clean.length + infected.length).toBe(scans.length);
    expect(clean.every((d) => Object.keys(d).join() === "infected")).toBe(true);
    expect(infected.every((d) => Object.keys(d).join() === "infected,infected_with" && typeof d["infected_with"] === "string")).toBe(true);
  });

  it("is deterministic for a seed", async () => {
    const other = await startSandbox({ files: 3000, seed: 11 });
    try {
      expect(other.publicKey).toBe(sb.publicKey);
      const a = (await raw(sb, "/files/?limit=20")).json().results.map((f: { uuid: string; size: number }) => [f.uuid, f.size]);
      const b = (await raw(other, "/files/?limit=20")).json().results.map((f: { uuid: string; size: number }) => [f.uuid, f.size]);
      expect(b).toEqual(a);
    } finally {
      await other.close();
    }
  });
});
