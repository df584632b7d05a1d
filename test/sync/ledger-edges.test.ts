import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type App } from "../../src/api/app.ts";
import { verifyChain } from "../../src/db/audit/verify.ts";
import { queryRows } from "../../src/db/query.ts";
import { dateToTimestamp } from "../../src/db/timestamps.ts";
import { silentLogger } from "../../src/logger.ts";
import type { Sandbox } from "../../src/sandbox/index.ts";
import { admitFiles, type QuarantineEntry } from "../../src/sync/files/admit.ts";
import type { FileRecord } from "../../src/sync/files/file-record.ts";
import { syncFiles } from "../../src/sync/files/sync-files.ts";
import { writeFiles } from "../../src/sync/files/write-files.ts";
import type { UploadcareFile } from "../../src/sync/uploadcare/file-object.ts";
import { signWebhookBody } from "../../src/sync/webhooks/signature.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { allSandboxFiles, clientFor, events, lastSeq, projectOf, sandboxApi, sandboxWithProject } from "../support/uploadcare.ts";

/**
 * The edges where a ledger could invent or lose history: snapshots applied out
 * of the order they were observed, deliveries that conflict, bytes PostgreSQL
 * refuses, files listed late.
 */
describe.each(backends)("ledger edges on %s", (kind) => {
  let database: TestDatabase;
  let sandbox: Sandbox;
  let app: App;
  const sync = (lanes: ("webhooks" | "new" | "reconcile")[]) =>
    syncFiles({ db: database.db, client: clientFor(database.db, sandbox), logger: silentLogger, now: () => new Date() }, { lanes });
  const deliver = async (event: string, data: unknown) => {
    const body = JSON.stringify({ initiator: { type: "api", detail: {} }, hook: { event, project_pub_key: sandbox.publicKey }, data, file: null });
    const res = await app.request("/v1/webhooks/uploadcare", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Uc-Signature": signWebhookBody(sandbox.webhookSecret, body) },
      body,
    });
    return { res, body };
  };
  /** Writes a page's admitted records as the reconciliation lane would. */
  const writeListed = (records: FileRecord[], quarantine: QuarantineEntry[]) =>
    writeFiles(
      database.db,
      { projectKey: sandbox.publicKey, source: "reconcile", runId: null, actor: "test", now: () => new Date() },
      records,
      undefined,
      quarantine,
    );
  const upstream = async (uuid: string) => (await allSandboxFiles(sandbox)).get(uuid)!;
  const ledgerRow = async (uuid: string) =>
    (await queryRows<{ metadata: Record<string, string>; original_filename: string }>(
      database.db,
      sql`select metadata, original_filename from files where project_key = ${sandbox.publicKey} and uuid = ${uuid}::uuid`,
    ))[0];
  const liveFile = async (index: number) =>
    [...(await allSandboxFiles(sandbox)).values()].filter((f) => f.datetime_removed === null).sort((a, b) => a.uuid.localeCompare(b.uuid))[index]!;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    sandbox = await sandboxWithProject(database.db, { files: 40, seed: 23 });
    app = createApp({ database, logger: silentLogger, version: "test", projects: [projectOf(sandbox)] });
    await sync(["new", "reconcile"]);
  });
  afterAll(async () => {
    await sandbox?.close();
    await database?.close();
  });

  it("ends with Uploadcare's current metadata and no revert when two info updates arrive in reverse order", async () => {
    const { uuid } = await liveFile(0);
    expect((await sandboxApi(sandbox, "PUT", `/files/${uuid}/metadata/stage/`, "first")).status).toBe(201);
    const first = await upstream(uuid);
    expect((await sandboxApi(sandbox, "PUT", `/files/${uuid}/metadata/stage/`, "second")).status).toBe(200);
    const second = await upstream(uuid);
    const start = await lastSeq(database.db, sandbox.publicKey);

    // Newest first, then the older one: in one inbox run, and again across two runs.
    for (const data of [second, first]) expect((await deliver("file.info_updated", data)).res.status).toBe(200);
    await sync(["webhooks"]);
    expect((await ledgerRow(uuid))!.metadata.stage).toBe("second");
    const trail = (await events(database.db, sandbox.publicKey, start)).filter((e) => e.file_uuid === uuid);
    expect(trail.map((e) => [e.kind, (e.after?.metadata as Record<string, string>)?.stage])).toEqual([["metadata_changed", "second"]]);

    const mid = await lastSeq(database.db, sandbox.publicKey);
    const stale = { ...first, metadata: { ...first.metadata, again: "1" } };
    expect((await deliver("file.info_updated", stale)).res.status).toBe(200);
    await sync(["webhooks"]);
    expect(await lastSeq(database.db, sandbox.publicKey)).toBe(mid);
    expect((await ledgerRow(uuid))!.metadata).toEqual(second.metadata);
    // Each delivery was checked against Uploadcare (GET /files/{uuid}/), and the read is in the API log.
    const reads = await queryRows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from api_requests where project_key = ${sandbox.publicKey} and method = 'GET' and path = ${`/files/${uuid}/`}`,
    );
    expect(reads[0]!.n).toBeGreaterThanOrEqual(2);
  });

  it("keeps the newer state and writes no event when a page fetched before a webhook change is written after it", async () => {
    const { uuid } = await liveFile(1);
    const early = await clientFor(database.db, sandbox).listFiles({});
    expect(early.items.some((item) => (item as { uuid: string }).uuid === uuid)).toBe(true);

    expect((await sandboxApi(sandbox, "PUT", `/files/${uuid}/metadata/owner/`, "ops")).status).toBe(201);
    expect((await deliver("file.info_updated", await upstream(uuid))).res.status).toBe(200);
    await sync(["webhooks"]);
    expect((await ledgerRow(uuid))!.metadata.owner).toBe("ops");

    const start = await lastSeq(database.db, sandbox.publicKey);
    const { records, quarantine } = admitFiles(early.items, "list", dateToTimestamp(early.observedAt));
    const counts = await writeListed(records, quarantine);
    expect(counts.stale).toBeGreaterThanOrEqual(1);
    expect(await lastSeq(database.db, sandbox.publicKey)).toBe(start);
    expect((await ledgerRow(uuid))!.metadata.owner).toBe("ops");
  });

  it("stores files with a NUL in metadata or name with documented substitutes, keeps the exact text, and keeps syncing", async () => {
    const [nulMeta] = sandbox.upload({ metadata: { note: "a\u0000b" } });
    const [nulName] = sandbox.upload({ originalFilename: "x\u0000y.png" });
    const [surrogate] = sandbox.upload({ metadata: { note: "lone \ud800 half" } });
    const [first] = await sync(["new"]);
    expect(first!.status).toBe("ok");
    expect(first!.quarantined).toBe(3);
    const [later] = sandbox.upload({});
    const [second] = await sync(["new"]);
    expect(second!.status).toBe("ok");

    expect((await ledgerRow(later!))).toBeDefined();
    expect((await ledgerRow(nulMeta!))!.metadata.note).toBe("a\u2400b");
    expect((await ledgerRow(nulName!))!.original_filename).toBe("x\u2400y.png");
    expect((await ledgerRow(surrogate!))!.metadata.note).toBe("lone \ufffd half");
    const kept = await queryRows<{ file_uuid: string; disposition: string; reason: string; raw: string }>(
      database.db,
      sql`select file_uuid::text as file_uuid, disposition, reason, raw from file_quarantine
          where project_key = ${sandbox.publicKey} and file_uuid = any(${sql.param([nulMeta!, nulName!, surrogate!])}::uuid[])`,
    );
    expect(kept.map((k) => k.disposition)).toEqual(["stored_escaped", "stored_escaped", "stored_escaped"]);
    // The raw text is exact: parsing it gives back the very value Uploadcare sent.
    const byFile = new Map(kept.map((k) => [k.file_uuid, k]));
    expect((JSON.parse(byFile.get(nulMeta!)!.raw) as UploadcareFile).metadata!.note).toBe("a\u0000b");
    expect((JSON.parse(byFile.get(surrogate!)!.raw) as UploadcareFile).metadata!.note).toBe("lone \ud800 half");
    expect(byFile.get(nulName!)!.reason).toMatch(/original_filename: contains U\+0000/);

    // Read again by a full scan: nothing new, no duplicate quarantine rows.
    const start = await lastSeq(database.db, sandbox.publicKey);
    await sync(["reconcile"]);
    expect(await lastSeq(database.db, sandbox.publicKey)).toBe(start);
    const again = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from file_quarantine where project_key = ${sandbox.publicKey} and source = 'list'`);
    expect(again[0]!.n).toBe(3);
  });

  it("sets aside a listed object that fails the schema and commits the rest of the page", async () => {
    const good = await liveFile(2);
    const bad = { ...good, uuid: "00000000-0000-4000-8000-00000000b4d0", size: "large", datetime_uploaded: "2026-02-30T10:00:00Z" };
    const { records, quarantine } = admitFiles([bad, good], "list", dateToTimestamp(new Date()));
    expect(records.map((r) => r.uuid)).toEqual([good.uuid]);
    expect(quarantine).toHaveLength(1);
    expect(quarantine[0]).toMatchObject({ fileUuid: bad.uuid, disposition: "set_aside" });
    expect(quarantine[0]!.reason).toMatch(/^does not match the file schema: (datetime_uploaded|size): /);
    const counts = await writeListed(records, quarantine);
    expect(counts.quarantined).toBe(1);
    const rows = await queryRows<{ raw: string }>(
      database.db,
      sql`select raw from file_quarantine where project_key = ${sandbox.publicKey} and file_uuid = ${bad.uuid}::uuid`,
    );
    expect(JSON.parse(rows[0]!.raw)).toEqual(bad);
  });

  it("stores a signed delivery carrying a NUL as received (2xx) and applies what Uploadcare holds", async () => {
    const { uuid } = await liveFile(3);
    expect((await sandboxApi(sandbox, "PUT", `/files/${uuid}/metadata/nul/`, "p\u0000q")).status).toBe(201);
    const { res, body } = await deliver("file.info_updated", await upstream(uuid));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { problem: string }).problem).toMatch(/metadata\.nul: contains U\+0000/);
    const [inbox] = await queryRows<{ raw_body: string; body: unknown }>(
      database.db,
      sql`select raw_body, body from webhook_inbox where project_key = ${sandbox.publicKey} and raw_body = ${body}`,
    );
    expect(inbox).toEqual({ raw_body: body, body: null });
    await sync(["webhooks"]);
    expect((await ledgerRow(uuid))!.metadata.nul).toBe("p\u2400q");
    const [outcome] = await queryRows<{ outcome: string }>(
      database.db,
      sql`select outcome from webhook_inbox where project_key = ${sandbox.publicKey} and raw_body = ${body}`,
    );
    expect(outcome!.outcome).toBe("reread");
  });

  it("stores a signed body holding a raw NUL byte, and a NUL in the initiator never stalls the inbox", async () => {
    const postRaw = (body: string) =>
      app.request("/v1/webhooks/uploadcare", {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-Uc-Signature": signWebhookBody(sandbox.webhookSecret, body) },
        body,
      });
    // Not JSON at all (a literal NUL is not allowed in a JSON string): kept, base64, set aside.
    const broken = '{"hook":{"event":"file.stored"},"data":{"uuid":"a\u0000b"}}';
    expect(broken.includes("\u0000")).toBe(true);
    const first = await postRaw(broken);
    expect(first.status).toBe(200);
    expect(((await first.json()) as { problem: string }).problem).toBe("body: not valid JSON");
    const [kept] = await queryRows<{ raw_body: string }>(
      database.db,
      sql`select raw_body from webhook_inbox where project_key = ${sandbox.publicKey} and raw_body like 'base64:%'`,
    );
    expect(Buffer.from(kept!.raw_body.slice("base64:".length), "base64").toString()).toBe(broken);

    // A valid delivery whose initiator type carries a NUL: the actor gets the substitute, the file is applied.
    const { uuid } = await liveFile(5);
    expect((await sandboxApi(sandbox, "PUT", `/files/${uuid}/metadata/who/`, "x")).status).toBe(201);
    const body = JSON.stringify({ initiator: { type: "api\u0000x", detail: {} }, hook: { event: "file.info_updated", project_pub_key: sandbox.publicKey }, data: await upstream(uuid), file: null });
    expect((await postRaw(body)).status).toBe(200);
    const [run] = await sync(["webhooks"]);
    expect(run!.status).toBe("ok");
    expect((await ledgerRow(uuid))!.metadata.who).toBe("x");
    const actors = (await events(database.db, sandbox.publicKey)).filter((e) => e.file_uuid === uuid).map((e) => e.actor);
    expect(actors).toContain("uploadcare:api\u2400x");
  });

  it("never lets two inbox runs at once apply the same delivery", async () => {
    const files = [...(await allSandboxFiles(sandbox)).values()].filter((f) => f.datetime_removed === null && f.datetime_stored !== null).slice(10, 22);
    const start = await lastSeq(database.db, sandbox.publicKey);
    for (const file of files) {
      expect((await sandboxApi(sandbox, "DELETE", `/files/${file.uuid}/storage/`)).status).toBe(200);
      expect((await deliver("file.deleted", await upstream(file.uuid))).res.status).toBe(200);
    }
    const runs = await Promise.all([sync(["webhooks"]), sync(["webhooks"])]);
    // Each delivery was claimed by exactly one of the two runs.
    expect(runs.flat().reduce((n, run) => n + run.seen, 0)).toBe(files.length);
    const trail = await events(database.db, sandbox.publicKey, start);
    expect(trail.map((e) => e.kind)).toEqual(files.map(() => "removed"));
    expect(new Set(trail.map((e) => e.file_uuid)).size).toBe(files.length);
  });

  it("finds a file listed late with an earlier upload time on the next plain sync (look-back)", async () => {
    await sync(["new"]);
    const [newest] = await queryRows<{ t: string }>(
      database.db,
      sql`select max(datetime_uploaded)::text as t from files where project_key = ${sandbox.publicKey}`,
    );
    const earlier = new Date(Date.parse(newest!.t.replace(" ", "T").replace(/\+00$/, "Z")) - 10 * 60_000).toISOString();
    const [late] = sandbox.upload({ datetimeUploaded: earlier });
    await sync(["new"]);
    expect(await ledgerRow(late!)).toBeDefined();
    const kinds = (await events(database.db, sandbox.publicKey)).filter((e) => e.file_uuid === late).map((e) => e.kind);
    expect(kinds).toEqual(["uploaded"]);
  });

  it("records a change to a metadata key named __proto__ once, covered by the chain", async () => {
    const { uuid } = await liveFile(4);
    expect((await sandboxApi(sandbox, "PUT", `/files/${uuid}/metadata/__proto__/`, "polluted?")).status).toBe(201);
    const start = await lastSeq(database.db, sandbox.publicKey);
    await sync(["reconcile"]);
    const trail = (await events(database.db, sandbox.publicKey, start)).filter((e) => e.file_uuid === uuid);
    expect(trail.map((e) => e.kind)).toEqual(["metadata_changed"]);
    expect(Object.getOwnPropertyDescriptor(trail[0]!.after!.metadata as object, "__proto__")?.value).toBe("polluted?");
    await sync(["reconcile"]);
    expect((await events(database.db, sandbox.publicKey, start)).filter((e) => e.file_uuid === uuid)).toHaveLength(1);
    expect((await verifyChain(database.db, sandbox.publicKey)).ok).toBe(true);
  });
});
