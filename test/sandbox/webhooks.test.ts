import { createHmac } from "node:crypto";
import {
  createWebhook, deleteFile, deleteWebhook, isRestClientError, listOfWebhooks, storeFile, updateMetadata, updateWebhook,
} from "@uploadcare/rest-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSandbox, type Sandbox } from "../../src/sandbox/index.ts";
import { authSchemes, control, raw, sdkSettings, startReceiver } from "./helpers.ts";

let sb: Sandbox;
const settings = () => sdkSettings(sb, authSchemes(sb)[1][1]);

beforeAll(async () => {
  sb = await startSandbox({ files: 50, seed: 5 });
});

afterAll(() => sb.close());

async function clearHooks() {
  for (const hook of (await raw(sb, "/webhooks/")).json()) await raw(sb, `/webhooks/${hook.id}/`, { method: "DELETE" });
}

describe("webhook subscriptions", () => {
  it("creates, lists, updates and deletes through the SDK", async () => {
    await clearHooks();
    const created = await createWebhook(
      { targetUrl: "https://example.com/hooks/a", event: "file.uploaded" as never, isActive: true, signingSecret: sb.webhookSecret },
      settings(),
    );
    expect(created).toMatchObject({ event: "file.uploaded", targetUrl: "https://example.com/hooks/a", isActive: true, signingSecret: sb.webhookSecret, version: "0.7" });
    expect(Number.isInteger(created.id)).toBe(true);
    expect(created.project).toBe(sb.projectId);
    expect(created.created).toMatch(/\.\d{6}Z$/);
    const list = await listOfWebhooks({}, settings());
    expect(Array.isArray(list)).toBe(true);
    expect(list.map((h) => h.id)).toEqual([created.id]);
    const updated = await updateWebhook({ id: created.id, isActive: false }, settings());
    expect(updated.isActive).toBe(false);
    expect(updated.updated >= updated.created).toBe(true);
    expect(await deleteWebhook({ targetUrl: "https://example.com/hooks/a" }, settings())).toBeUndefined();
    expect(await listOfWebhooks({}, settings())).toEqual([]);
  });

  it("accepts form bodies, refuses duplicates and a missing target_url, deletes by id", async () => {
    await clearHooks();
    const form = "event=file.stored&target_url=https%3A%2F%2Fexample.com%2Fb&is_active=true";
    const created = await raw(sb, "/webhooks/", { method: "POST", body: form, contentType: "application/x-www-form-urlencoded" });
    expect(created.status).toBe(201);
    expect(created.json()).toMatchObject({ event: "file.stored", target_url: "https://example.com/b", is_active: true, signing_secret: null });
    const duplicate = await raw(sb, "/webhooks/", { method: "POST", body: { event: "file.stored", target_url: "https://example.com/b" } });
    expect(duplicate.status).toBe(400);
    expect(duplicate.json()).toEqual({ non_field_errors: ["This project is already subscribed on this event"] });
    const otherEvent = await raw(sb, "/webhooks/", { method: "POST", body: { event: "file.deleted", target_url: "https://example.com/b" } });
    expect(otherEvent.status).toBe(201);
    const missing = await raw(sb, "/webhooks/", { method: "POST", body: { event: "file.stored" } });
    expect(missing.json()).toEqual({ detail: "`target_url` is missing." });
    expect((await raw(sb, "/webhooks/", { method: "POST", body: { event: "file.nope", target_url: "https://x.y/" } })).status).toBe(400);
    const id = created.json().id;
    expect((await raw(sb, `/webhooks/${id}/`, { method: "DELETE" })).status).toBe(204);
    expect((await raw(sb, `/webhooks/${id}/`, { method: "DELETE" })).status).toBe(404);
    expect((await raw(sb, `/webhooks/${id}/`, { method: "PUT", body: { is_active: false } })).status).toBe(404);
    try {
      await updateWebhook({ id: 1, isActive: false }, settings());
      throw new Error("expected a 404");
    } catch (e) {
      expect(isRestClientError(e) && e.status).toBe(404);
    }
  });
});

describe("webhook deliveries", () => {
  it("delivers signed payloads for an upload, a store, a metadata change and a delete", async () => {
    await clearHooks();
    const receiver = await startReceiver();
    try {
      for (const event of ["file.uploaded", "file.stored", "file.info_updated", "file.deleted"]) {
        const res = await raw(sb, "/webhooks/", { method: "POST", body: { event, target_url: receiver.url, signing_secret: sb.webhookSecret } });
        expect(res.status).toBe(201);
      }
      const { uuids } = await control(sb, "POST", "/files", { count: 1, stored: false, metadata: { pet: "cat" } });
      const uuid = uuids[0];
      const stored = await raw(sb, `/files/${uuid}/storage/`, { method: "PUT" });
      await updateMetadata({ uuid, key: "pet", value: "dog" }, settings());
      await deleteFile({ uuid }, settings());
      await sb.settle();

      expect(receiver.received.map((r) => r.json.hook.event)).toEqual(["file.uploaded", "file.stored", "file.info_updated", "file.deleted"]);
      for (const r of receiver.received) {
        const expected = `v1=${createHmac("sha256", sb.webhookSecret).update(r.body).digest("hex")}`;
        expect(r.headers["x-uc-signature"]).toBe(expected);
        expect(r.headers["content-type"]).toBe("application/json");
        expect(Object.keys(r.json)).toEqual(r.json.hook.event === "file.info_updated" ? ["initiator", "hook", "data", "file", "previous_values"] : ["initiator", "hook", "data", "file"]);
        expect(Object.keys(r.json.hook).sort()).toEqual(["created_at", "event", "id", "is_active", "project_id", "project_pub_key", "target", "updated_at", "version"]);
        expect(r.json.hook).toMatchObject({ project_id: sb.projectId, project_pub_key: sb.publicKey, target: receiver.url, is_active: true, version: "0.7" });
        expect(r.json.data.uuid).toBe(uuid);
        expect("appdata" in r.json.data).toBe(true);
        expect(r.json.file).toMatch(new RegExp(`^https://ucarecdn.com/${uuid}/`));
        expect(r.json.initiator.type).toBe("api");
      }
      const [uploaded, storedHook, info, deleted] = receiver.received.map((r) => r.json);
      expect(uploaded.data.datetime_stored).toBeNull();
      expect(storedHook.data.datetime_stored).not.toBeNull();
      expect(storedHook.initiator.detail.request_id).toBe(stored.headers["x-uploadcare-request-id"]);
      expect(info.previous_values).toEqual({ metadata: { pet: "cat" } });
      expect(info.data.metadata).toEqual({ pet: "dog" });
      expect(deleted.data.datetime_removed).not.toBeNull();
      expect(deleted.data.original_file_url).toBeNull();
    } finally {
      await receiver.close();
      await clearHooks();
    }
  });

  it("sends no signature without a signing secret, nothing to inactive hooks, and keeps order", async () => {
    const receiver = await startReceiver();
    try {
      await raw(sb, "/webhooks/", { method: "POST", body: { event: "file.uploaded", target_url: receiver.url } });
      await raw(sb, "/webhooks/", { method: "POST", body: { event: "file.stored", target_url: receiver.url, is_active: false } });
      const { uuids } = await control(sb, "POST", "/files", { count: 5, stored: true });
      await sb.settle();
      expect(receiver.received.map((r) => r.json.data.uuid)).toEqual(uuids);
      expect(receiver.received.every((r) => r.headers["x-uc-signature"] === undefined && r.json.hook.event === "file.uploaded")).toBe(true);
    } finally {
      await receiver.close();
      await clearHooks();
    }
  });

  it("retries a failing target and records every attempt", async () => {
    const receiver = await startReceiver({ failFirst: 2 });
    try {
      const hook = (await raw(sb, "/webhooks/", { method: "POST", body: { event: "file.uploaded", target_url: receiver.url } })).json();
      const before = sb.deliveries().at(-1)?.seq ?? 0;
      await control(sb, "POST", "/files", { count: 1 });
      await control(sb, "POST", "/settle");
      expect(receiver.received).toHaveLength(1);
      const attempts = (await control(sb, "GET", `/webhook-deliveries?since=${before}`)).deliveries.filter((d: { webhook_id: number }) => d.webhook_id === hook.id);
      expect(attempts.map((d: { attempt: number; status: number; ok: boolean }) => [d.attempt, d.status, d.ok])).toEqual([
        [1, 500, false],
        [2, 500, false],
        [3, 200, true],
      ]);
    } finally {
      await receiver.close();
      await clearHooks();
    }
  });

  it("delivers file.info_updated and file.infected when an add-on result arrives", async () => {
    const receiver = await startReceiver();
    try {
      for (const event of ["file.info_updated", "file.infected"]) {
        await raw(sb, "/webhooks/", { method: "POST", body: { event, target_url: receiver.url } });
      }
      const { uuids } = await control(sb, "POST", "/files", { count: 1 });
      await control(sb, "PUT", `/files/${uuids[0]}/appdata`, { uc_clamav_virus_scan: { infected: true, infected_with: "Win.Test.EICAR_HDB-1" } });
      await sb.settle();
      const [info, infected] = receiver.received.map((r) => r.json);
      expect(info.hook.event).toBe("file.info_updated");
      expect(info.initiator).toMatchObject({ type: "addon", detail: { addon_name: "uc_clamav_virus_scan" } });
      expect(info.previous_values).toEqual({ appdata: {} });
      expect(info.data.appdata.uc_clamav_virus_scan.data).toEqual({ infected: true, infected_with: "Win.Test.EICAR_HDB-1" });
      expect(infected.hook.event).toBe("file.infected");
    } finally {
      await receiver.close();
      await clearHooks();
    }
  });
});

describe("storeFile through the SDK fires file.stored once", () => {
  it("does not fire again for an already stored file", async () => {
    const receiver = await startReceiver();
    try {
      await raw(sb, "/webhooks/", { method: "POST", body: { event: "file.stored", target_url: receiver.url } });
      const { uuids } = await control(sb, "POST", "/files", { count: 1, stored: false });
      await storeFile({ uuid: uuids[0] }, settings());
      await storeFile({ uuid: uuids[0] }, settings());
      await sb.settle();
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
      await clearHooks();
    }
  });
});
