import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { control, raw, startReceiver } from "./helpers.ts";

let sb: Sandbox;

beforeAll(async () => {
  sb = await startSandbox({ files: 2000, seed: 13, now: () => new Date("2026-06-15T12:00:00Z") });
});

afterAll(() => sb.close());

describe("file lifecycle", () => {
  it("generates unstored files only within the last 24 hours", async () => {
    const page = (await raw(sb, "/files/?stored=false&limit=1000")).json();
    expect(page.total).toBe(page.results.length);
    const dayAgo = new Date(sb.now().getTime() - 86_400_000).toISOString();
    expect(page.results.every((f: { datetime_uploaded: string; datetime_stored: null }) => f.datetime_uploaded > dayAgo && f.datetime_stored === null)).toBe(true);
  });

  it("removes unstored files 24 h after upload when the clock moves, firing file.deleted from the system", async () => {
    const receiver = await startReceiver();
    try {
      await raw(sb, "/webhooks/", { method: "POST", body: { event: "file.deleted", target_url: receiver.url } });
      const { uuids: temporary } = await control(sb, "POST", "/files", { count: 3, stored: false });
      const { uuids: kept } = await control(sb, "POST", "/files", { count: 1, stored: true });
      const uploaded = (await raw(sb, `/files/${temporary[0]}/`)).json().datetime_uploaded;

      const almost = await control(sb, "POST", "/clock", { advance_seconds: 23 * 3600 });
      expect(almost.now).toBe("2026-06-16T11:00:00.000000Z");
      expect((await raw(sb, `/files/${temporary[0]}/`)).json().datetime_removed).toBeNull();

      // Generated temporaries from the last hour of the first day expire too.
      const { expired } = await control(sb, "POST", "/clock", { advance_seconds: 3600 + 1 });
      expect(expired).toBeGreaterThanOrEqual(3);
      for (const uuid of temporary) {
        const f = (await raw(sb, `/files/${uuid}/`)).json();
        expect(f.datetime_removed).not.toBeNull();
        expect(f.original_file_url).toBeNull();
      }
      const first = (await raw(sb, `/files/${temporary[0]}/`)).json();
      expect(new Date(first.datetime_removed).getTime() - new Date(uploaded).getTime()).toBe(86_400_000);
      expect((await raw(sb, `/files/${kept[0]}/`)).json().datetime_removed).toBeNull();
      const unstored = (await raw(sb, "/files/?stored=false&limit=1000")).json();
      expect(unstored.results.map((f: { uuid: string }) => f.uuid)).not.toContain(temporary[0]);
      const removed = (await raw(sb, "/files/?removed=true&ordering=-datetime_uploaded&limit=20")).json();
      expect(removed.results.map((f: { uuid: string }) => f.uuid)).toEqual(expect.arrayContaining(temporary));

      await sb.settle();
      const mine = receiver.received.filter((r) => temporary.includes(r.json.data.uuid));
      expect(mine).toHaveLength(3);
      expect(mine.every((r) => r.json.initiator.type === "system" && r.json.initiator.detail.request_id === null)).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it("expires at once a temporary file uploaded more than a day ago", async () => {
    const past = new Date(sb.now().getTime() - 2 * 86_400_000).toISOString();
    const { uuids } = await control(sb, "POST", "/files", { count: 1, stored: false, datetime_uploaded: past });
    expect((await raw(sb, `/files/${uuids[0]}/`)).json().datetime_removed).not.toBeNull();
  });

  it("stores with the request time and keeps the rest on delete", async () => {
    const { uuids } = await control(sb, "POST", "/files", { count: 1, stored: false, size: 1234, mime_type: "application/pdf", original_filename: "a.pdf" });
    const stored = (await raw(sb, `/files/${uuids[0]}/storage/`, { method: "PUT" })).json();
    expect(stored.datetime_stored.slice(0, 19)).toBe(sb.now().toISOString().slice(0, 19));
    const removed = (await raw(sb, `/files/${uuids[0]}/storage/`, { method: "DELETE" })).json();
    expect(removed).toMatchObject({ size: 1234, mime_type: "application/pdf", original_filename: "a.pdf", datetime_stored: null, original_file_url: null });
    expect(removed.content_info).toEqual({ mime: { mime: "application/pdf", type: "application", subtype: "pdf" } });
    // Deleting again is harmless and keeps the first removal time.
    const again = (await raw(sb, `/files/${uuids[0]}/storage/`, { method: "DELETE" })).json();
    expect(again.datetime_removed).toBe(removed.datetime_removed);
  });

  it("changes files behind the API's back without webhooks", async () => {
    const { uuids } = await control(sb, "POST", "/files", { count: 1 });
    const changed = await control(sb, "PATCH", `/files/${uuids[0]}`, { size: 42, metadata: { k: "v" }, status: "unstored" });
    expect(changed).toMatchObject({ size: 42, metadata: { k: "v" }, datetime_stored: null });
    expect((await raw(sb, `/files/${uuids[0]}/`)).json().size).toBe(42);
    const moved = await control(sb, "PATCH", `/files/${uuids[0]}`, { datetime_uploaded: "2026-06-16T12:30:00.5Z", status: "stored" });
    expect(moved.datetime_uploaded).toBe("2026-06-16T12:30:00.500000Z");
    const list = (await raw(sb, `/files/?limit=1&from=${encodeURIComponent("2026-06-16T12:30:00.4Z")}`)).json();
    expect(list.results[0].uuid).toBe(uuids[0]);
  });
});
