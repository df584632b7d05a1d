import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app.ts";
import { queryRows } from "../../src/db/query.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { installWebhooks } from "../../src/sync/webhooks/install.ts";
import { signWebhookBody } from "../../src/sync/webhooks/signature.ts";
import type { UploadcareFile } from "../../src/sync/uploadcare/file-object.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, clientFor, events, lastSeq, projectOf, sandboxApi, sandboxWithProject } from "../support/uploadcare.ts";

describe.each(backends)("webhook lane on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: Sandbox;
  let server: Server;
  let receiver: string;
  const sync = (lanes: ("webhooks" | "new" | "reconcile")[]) =>
    syncFiles({ db: database.db, client: clientFor(database.db, sandbox), logger: silentLogger, now: () => new Date() }, { lanes });
  const post = (body: string, signature: string | undefined) =>
    fetch(receiver, { method: "POST", headers: { "Content-Type": "application/json", ...(signature ? { "X-Uc-Signature": signature } : {}) }, body });
  const inboxCount = async () =>
    (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from webhook_inbox where project_key = ${sandbox.publicKey}`))[0]!.n;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    sandbox = await sandboxWithProject(database.db, { files: 60, seed: 11 });
    const app = createApp({ database, logger: silentLogger, version: "test", projects: [projectOf(sandbox)] });
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    receiver = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/webhooks/uploadcare`;
    await sync(["new", "reconcile"]);
  });
  afterAll(async () => {
    server?.close();
    await sandbox?.close();
    await database?.close();
  });

  it("subscribes to the five file events with the signing secret, and records the action", async () => {
    const client = clientFor(database.db, sandbox);
    const first = await installWebhooks({ db: database.db, client, now: () => new Date() }, { targetUrl: receiver, signingSecret: sandbox.webhookSecret, actor: "cli:test" });
    expect(first.created.sort()).toEqual(["file.deleted", "file.infected", "file.info_updated", "file.stored", "file.uploaded"]);
    const again = await installWebhooks({ db: database.db, client, now: () => new Date() }, { targetUrl: receiver, signingSecret: sandbox.webhookSecret, actor: "cli:test" });
    expect(again.created).toEqual([]);
    expect(again.updated).toHaveLength(5);
    const listed = (await sandboxApi(sandbox, "GET", "/webhooks/")).json as { event: string; signing_secret: string }[];
    expect(listed.filter((h) => h.signing_secret === sandbox.webhookSecret)).toHaveLength(5);
    const actions = (await events(database.db, sandbox.publicKey)).filter((e) => e.kind === "action");
    expect(actions.map((a) => [a.actor, a.source, a.after?.action])).toEqual([
      ["cli:test", "action", "webhooks_installed"],
      ["cli:test", "action", "webhooks_installed"],
    ]);
  });

  it("refuses a bad or missing signature with 401 and stores nothing", async () => {
    const body = JSON.stringify({ hook: { event: "file.stored", project_pub_key: sandbox.publicKey }, data: {} });
    const before = await inboxCount();
    expect((await post(body, signWebhookBody("wrong-secret", body))).status).toBe(401);
    const missing = await post(body, undefined);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    expect(await inboxCount()).toBe(before);
    // Refusals are counted per source, minute and reason, not logged one by one (test/api/refused-deliveries.test.ts).
    const logged = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from api_requests where api = 'webhook' and status = 401`);
    expect(logged[0]!.n).toBe(0);
    const counted = await queryRows<{ reason: string; n: number }>(
      database.db,
      sql`select reason, sum(count)::int as n from refused_webhook_deliveries where source = '127.0.0.1' group by reason order by reason`,
    );
    expect(counted).toEqual([
      { reason: "signature_invalid", n: 1 },
      { reason: "signature_missing", n: 1 },
    ]);
  });

  it("applies signed deliveries for uploads, stores, deletes and metadata changes; a full scan adds nothing", async () => {
    const start = await lastSeq(database.db, sandbox.publicKey);
    const files = [...(await allSandboxFiles(sandbox)).values()].filter((f) => f.datetime_removed === null && f.datetime_stored !== null);
    const [toDelete, toTag] = [files[0]!.uuid, files[1]!.uuid];
    const [fresh] = sandbox.upload({ count: 1, stored: false });
    expect((await sandboxApi(sandbox, "PUT", `/files/${fresh}/storage/`)).status).toBe(200);
    expect((await sandboxApi(sandbox, "DELETE", `/files/${toDelete}/storage/`)).status).toBe(200);
    expect((await sandboxApi(sandbox, "PUT", `/files/${toTag}/metadata/owner/`, "ops")).status).toBe(201);
    await sandbox.settle();

    await sync(["webhooks"]);
    const got = (await events(database.db, sandbox.publicKey, start)).map((e) => `${e.kind}:${e.file_uuid}:${e.source}`).sort();
    expect(got).toEqual(
      [`uploaded:${fresh}:webhook`, `stored:${fresh}:webhook`, `removed:${toDelete}:webhook`, `metadata_changed:${toTag}:webhook`].sort(),
    );
    const afterWebhooks = await lastSeq(database.db, sandbox.publicKey);
    await sync(["new", "reconcile"]);
    expect(await lastSeq(database.db, sandbox.publicKey)).toBe(afterWebhooks);
  });

  it("records a duplicate delivery once", async () => {
    // The change really happens upstream: an info update is a hint the lane checks by reading the file.
    const live = [...(await allSandboxFiles(sandbox)).values()].find((f) => f.datetime_removed === null)!;
    expect((await sandboxApi(sandbox, "PUT", `/files/${live.uuid}/metadata/dup/`, "1")).status).toBe(201);
    const file = (await allSandboxFiles(sandbox)).get(live.uuid)!;
    const body = JSON.stringify({
      initiator: { type: "api", detail: {} },
      hook: { event: "file.info_updated", project_pub_key: sandbox.publicKey },
      data: file,
      file: file.original_file_url,
    });
    const signature = signWebhookBody(sandbox.webhookSecret, body);
    const start = await lastSeq(database.db, sandbox.publicKey);
    const first = await post(body, signature);
    const second = await post(body, signature);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(((await second.json()) as { status: string }).status).toBe("duplicate");
    await sync(["webhooks"]);
    expect((await events(database.db, sandbox.publicKey, start)).map((e) => e.kind)).toEqual(["metadata_changed"]);
  });

  it("never lets a file.stored that arrives after file.deleted bring the file back", async () => {
    // The ledger's own copy, so the only difference the deliveries carry is the one under test.
    const [{ data: file }] = (await queryRows<{ data: UploadcareFile }>(
      database.db,
      sql`select data from files where project_key = ${sandbox.publicKey} and datetime_removed is null
          and datetime_stored is not null order by uuid limit 1`,
    )) as [{ data: UploadcareFile }];
    const later = new Date(Date.parse(file.datetime_stored!) + 60_000).toISOString();
    const deleted = { ...file, datetime_removed: new Date(Date.parse(later) + 60_000).toISOString(), datetime_stored: null, original_file_url: null };
    const stored = { ...file, datetime_stored: later };
    const bodyOf = (event: string, data: unknown) =>
      JSON.stringify({ initiator: { type: "api", detail: {} }, hook: { event, project_pub_key: sandbox.publicKey }, data, file: null });
    const start = await lastSeq(database.db, sandbox.publicKey);
    // Two runs, so each delivery is applied as sent (deliveries for one file in one batch are re-read instead).
    for (const body of [bodyOf("file.deleted", deleted), bodyOf("file.stored", stored)]) {
      expect((await post(body, signWebhookBody(sandbox.webhookSecret, body))).status).toBe(200);
      await sync(["webhooks"]);
    }
    expect((await events(database.db, sandbox.publicKey, start)).map((e) => e.kind)).toEqual(["removed"]);
    const [row] = await queryRows<{ removed: string | null; outcome: string }>(
      database.db,
      sql`select f.datetime_removed::text as removed, i.outcome from files f
          join webhook_inbox i on i.project_key = f.project_key and i.file_uuid = f.uuid and i.event = 'file.stored'
          where f.project_key = ${sandbox.publicKey} and f.uuid = ${file.uuid}`,
    );
    expect(row).toMatchObject({ outcome: "stale" });
    expect(row!.removed).not.toBeNull();
  });

  it("stores a signed body that is not a file webhook as received, names the problem, and sets it aside", async () => {
    const body = JSON.stringify({ hook: { event: "file.stored", project_pub_key: sandbox.publicKey }, data: { uuid: "nope" } });
    const res = await post(body, signWebhookBody(sandbox.webhookSecret, body));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { problem: string }).problem).toMatch(/^body\.data\.uuid: /);
    const start = await lastSeq(database.db, sandbox.publicKey);
    await sync(["webhooks"]);
    expect(await lastSeq(database.db, sandbox.publicKey)).toBe(start);
    const [row] = await queryRows<{ raw_body: string; outcome: string }>(
      database.db,
      sql`select raw_body, outcome from webhook_inbox where project_key = ${sandbox.publicKey} and raw_body = ${body}`,
    );
    expect(row).toEqual({ raw_body: body, outcome: "set_aside" });
    const [kept] = await queryRows<{ raw: string; disposition: string; reason: string }>(
      database.db,
      sql`select raw, disposition, reason from file_quarantine where project_key = ${sandbox.publicKey} and source = 'webhook' and raw = ${body}`,
    );
    expect(kept).toMatchObject({ raw: body, disposition: "set_aside" });
    expect(kept!.reason).toMatch(/^body\.data\.uuid: /);
  });
});
