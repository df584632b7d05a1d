import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAnchorsFile } from "../../src/db/audit/anchor-file.ts";
import { generateAnchorKeyPem, parsePrivateKey, parsePublicKey, signerFrom } from "../../src/db/audit/anchor-key.ts";
import { verifyAgainstAnchors } from "../../src/db/audit/anchor-verify.ts";
import { takeAnchor, type Anchor } from "../../src/db/audit/anchors.ts";
import { queryRows } from "../../src/db/query.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { rechain as rechainFrom, withGuardsOff } from "../support/tamper.ts";
import { apiHarness, appendTo, event, parseCsv, type ApiHarness, type ErrorBody } from "./helpers.ts";

interface Page {
  data: Anchor[];
  nextCursor: string | null;
}

const keys = generateAnchorKeyPem();
const signer = signerFrom(parsePrivateKey(keys.privateKey));
const publicKey = parsePublicKey(keys.publicKey);

const A = "anchors-api-a";
const B = "anchors-api-b";

describe.each(backends)("GET /v1/audit/anchors on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  let clock = Date.parse("2026-11-10T00:00:00Z");

  /** Appends `events` events to the project and signs the new head. */
  async function grow(projectKey: string, events: number) {
    await appendTo(database.db, projectKey, Array.from({ length: events }, (_, i) => event(null, { kind: "action", source: "action", actor: `cli:t${i}` })));
    const taken = await takeAnchor(database.db, projectKey, signer, publicKey, new Date((clock += 60_000)));
    expect(taken.taken).toBe(true);
  }

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    // A: anchors at events 2, 4, 6, 8, 10; B: at 3 and 9.
    for (let i = 0; i < 5; i++) await grow(A, 2);
    await grow(B, 3);
    await grow(B, 6);
    api = await apiHarness(database);
  });
  afterAll(async () => {
    await database?.close();
  });

  const tamper = (body: () => Promise<unknown>) => withGuardsOff(database.db, body);
  const rechain = (projectKey: string) => rechainFrom(database.db, projectKey, 1);


  async function everything(query: string): Promise<Anchor[]> {
    const out: Anchor[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { status, body }: { status: number; body: Page } = await api.json<Page>(
        `/v1/audit/anchors?${query}&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
        { role: "viewer" },
      );
      expect(status).toBe(200);
      out.push(...body.data);
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(Math.ceil(out.length / 2));
    return out;
  }

  it("lists a project's anchors newest first, every field a verifier needs", async () => {
    const { status, body } = await api.json<Page>(`/v1/audit/anchors?project=${A}`, { role: "viewer" });
    expect(status).toBe(200);
    expect(body.data.map((a) => a.seq)).toEqual([10, 8, 6, 4, 2]);
    expect(body.nextCursor).toBeNull();
    const [newest] = body.data;
    expect(Object.keys(newest!).sort()).toEqual(["hash", "keyId", "projectKey", "seq", "signature", "takenAt"]);
    expect(newest).toMatchObject({ projectKey: A, keyId: signer.keyId, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const [head] = await queryRows<{ hash: string }>(database.db, sql`select hash from file_events where project_key = ${A} and seq = 10`);
    expect(newest!.hash).toBe(head!.hash);
  });

  it("pages across projects with a cursor, newest chain position first, each anchor once", async () => {
    const all = await everything("");
    expect(all.map((a) => `${a.projectKey}:${a.seq}`).sort()).toEqual([`${A}:10`, `${A}:2`, `${A}:4`, `${A}:6`, `${A}:8`, `${B}:3`, `${B}:9`].sort());
    const seqs = all.map((a) => a.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => y - x));
    expect((await everything(`project=${B}`)).map((a) => a.seq)).toEqual([9, 3]);
  });

  it("answers 401 without a token, 400 for a bad cursor or parameter, 404 for an unknown project", async () => {
    expect((await api.call("/v1/audit/anchors", { role: null })).status).toBe(401);
    const garbage = await api.json<ErrorBody>("/v1/audit/anchors?cursor=not-a-cursor", { role: "viewer" });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.message).toMatch(/^cursor: /);
    // A cursor from another listing is refused, not misread.
    const events = await api.json<{ nextCursor: string }>("/v1/events?limit=1", { role: "viewer" });
    const foreign = await api.json<ErrorBody>(`/v1/audit/anchors?cursor=${events.body.nextCursor}`, { role: "viewer" });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.message).toContain("belongs to another listing");
    const unknown = await api.json<ErrorBody>("/v1/audit/anchors?verbose=1", { role: "viewer" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain("verbose");
    expect((await api.json<ErrorBody>("/v1/audit/anchors?limit=0", { role: "viewer" })).status).toBe(400);
    const missing = await api.json<ErrorBody>("/v1/audit/anchors?project=nope", { role: "viewer" });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("NOT_FOUND");
  });

  it("exports CSV with a header row", async () => {
    const res = await api.call(`/v1/audit/anchors?project=${B}&format=csv`, { role: "viewer" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    const rows = parseCsv(await res.text());
    expect(rows[0]).toEqual(["project_key", "seq", "hash", "taken_at", "key_id", "signature"]);
    expect(rows.slice(1).map((r) => r[1])).toEqual(["9", "3"]);
  });

  it("exports NDJSON that audit verify --anchors reads back: a re-chain is caught once the anchors table is wiped", async () => {
    const res = await api.call(`/v1/audit/anchors?format=ndjson`, { role: "viewer" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    expect(res.headers.get("content-disposition")).toContain("anchors.ndjson");
    const fileAnchors = parseAnchorsFile(await res.text());
    expect(fileAnchors).toHaveLength(7);
    const options = { publicKeys: [keys.publicKey], fileAnchors, full: true, remember: false };
    expect((await verifyAgainstAnchors(database.db, A, options)).ok).toBe(true);

    // As the superuser: wipe the anchors, then alter event 1 and re-hash A's chain from genesis with the public hash function.
    await tamper(() => database.db.execute(sql`delete from audit_anchors`));
    await rechain(A);
    // Without the copy the rewritten chain passes: nothing is left to tell.
    expect(await verifyAgainstAnchors(database.db, A, { ...options, fileAnchors: [] })).toMatchObject({ ok: true, chain: { ok: true }, anchors: { database: 0 } });

    const report = await verifyAgainstAnchors(database.db, A, options);
    expect(report.ok).toBe(false);
    expect(report.chain.ok).toBe(true);
    expect(report.anchors).toMatchObject({ database: 0, file: 5 });
    expect(report.problems.map((p) => [p.kind, p.seq, p.origin])).toEqual([2, 4, 6, 8, 10].map((seq) => ["hash_mismatch", seq, "file"]));
  });
});
