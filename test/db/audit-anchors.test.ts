import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateAnchorKeyPem, parsePrivateKey, parsePublicKey, signerFrom } from "../../src/db/audit/anchor-key.ts";
import { parseAnchorsFile } from "../../src/db/audit/anchor-file.ts";
import { verifyAgainstAnchors } from "../../src/db/audit/anchor-verify.ts";
import { AnchorRefusedError, anchorText, readAnchors, takeAnchor, type Anchor } from "../../src/db/audit/anchors.ts";
import { appendEvents, GENESIS_HASH, type NewEvent } from "../../src/db/audit/chain.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { queryRows } from "../../src/db/query.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { rechain as rechainFrom, withGuardsOff } from "../support/tamper.ts";

const keys = generateAnchorKeyPem();
const signer = signerFrom(parsePrivateKey(keys.privateKey));
const publicKey = parsePublicKey(keys.publicKey);
const verifyKeys = { publicKeys: [keys.publicKey] };

function event(n: number): NewEvent {
  return {
    fileUuid: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    kind: "uploaded",
    before: null,
    after: { size: n },
    occurredAt: "2026-11-01T10:00:00.123456Z",
    observedAt: "2026-11-02T10:00:00.5Z",
    source: "sync",
    runId: "run-1",
    planId: null,
    actor: "ucledger:sync",
  };
}

describe("anchors file", () => {
  const anchor: Anchor = { projectKey: "p", seq: 3, hash: "a".repeat(64), takenAt: "2026-11-02T10:00:00.5Z", keyId: "k", signature: "c2ln" };
  it("reads an API page, NDJSON with snake_case names and a plain array alike", () => {
    const canonical = { ...anchor, takenAt: "2026-11-02T10:00:00.500000Z" };
    expect(parseAnchorsFile(JSON.stringify({ data: [anchor], nextCursor: null }))).toEqual([canonical]);
    const snake = { project_key: "p", seq: "3", hash: anchor.hash, taken_at: anchor.takenAt, key_id: "k", signature: "c2ln" };
    expect(parseAnchorsFile(`${JSON.stringify(snake)}\n\n${JSON.stringify(snake)}\n`)).toEqual([canonical, canonical]);
    expect(parseAnchorsFile(JSON.stringify([anchor]))).toEqual([canonical]);
  });
  it("names the line and the field that is wrong", () => {
    expect(() => parseAnchorsFile(`${JSON.stringify(anchor)}\n{"seq": 1}`)).toThrow(/^line 2: projectKey/);
    expect(() => parseAnchorsFile(`${JSON.stringify(anchor)}\nnope`)).toThrow("line 2: not JSON");
    expect(() => parseAnchorsFile(JSON.stringify([{ ...anchor, hash: "xyz" }]))).toThrow("item 1: hash: must be 64 hex digits");
  });
});

describe.each(backends)("audit anchors on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.close();
  });

  let clock = Date.parse("2026-11-03T00:00:00Z");
  const now = () => new Date((clock += 60_000));

  async function seed(projectKey: string, count: number, from = 1) {
    await registerProjects(database.db, [{ projectKey, name: projectKey, isDemo: false }]);
    await database.db.transaction((tx) => appendEvents(tx, projectKey, Array.from({ length: count }, (_, i) => event(from + i))));
  }
  const anchor = (projectKey: string) => takeAnchor(database.db, projectKey, signer, publicKey, now());
  const verify = (projectKey: string, extra: Partial<Parameters<typeof verifyAgainstAnchors>[2]> = {}) =>
    verifyAgainstAnchors(database.db, projectKey, { ...verifyKeys, now: now(), ...extra });

  const tamper = (body: () => Promise<unknown>) => withGuardsOff(database.db, body);

  /** Cuts the chain after `keep` events and moves the head back to match: the chain itself still holds. */
  async function truncate(projectKey: string, keep: number) {
    await tamper(async () => {
      await database.db.execute(sql`delete from file_events where project_key = ${projectKey} and seq > ${keep}`);
      await database.db.execute(sql`update audit_chain_heads set last_seq = ${keep},
        last_hash = (select hash from file_events where project_key = ${projectKey} and seq = ${keep}) where project_key = ${projectKey}`);
    });
  }

  const rechain = (projectKey: string) => rechainFrom(database.db, projectKey, 2);


  it("refuses UPDATE, DELETE and TRUNCATE on anchors", async () => {
    await seed("anc-guard", 2);
    expect((await anchor("anc-guard")).taken).toBe(true);
    await expect(database.db.execute(sql`update audit_anchors set seq = 1 where project_key = 'anc-guard'`)).rejects.toThrow();
    await expect(database.db.execute(sql`delete from audit_anchors where project_key = 'anc-guard'`)).rejects.toThrow();
    await expect(database.db.execute(sql`truncate audit_anchors`)).rejects.toThrow();
    expect(await readAnchors(database.db, "anc-guard")).toHaveLength(1);
  });

  it("signs the head once per position, skips an empty chain, and verifies incrementally from the last verified anchor", async () => {
    await registerProjects(database.db, [{ projectKey: "anc-ok", name: "ok", isDemo: false }]);
    expect(await anchor("anc-ok")).toMatchObject({ taken: false, reason: "empty" });
    await seed("anc-ok", 3);
    const first = await anchor("anc-ok");
    expect(first).toMatchObject({ taken: true, anchor: { projectKey: "anc-ok", seq: 3, keyId: signer.keyId } });
    expect(await anchor("anc-ok")).toMatchObject({ taken: false, reason: "unchanged" });
    const [stored] = await readAnchors(database.db, "anc-ok");
    expect(stored).toEqual(first.taken ? first.anchor : null);

    // First run: a walk from genesis; it records anchor 3 as verified.
    const full = await verify("anc-ok");
    expect(full).toMatchObject({ ok: true, walkedFrom: 0, problems: [], chain: { ok: true, events: 3 }, anchors: { database: 1, latest: { seq: 3 } } });
    await seed("anc-ok", 2, 4);
    await anchor("anc-ok");
    const incremental = await verify("anc-ok");
    expect(incremental).toMatchObject({ ok: true, walkedFrom: 3, chain: { ok: true, events: 5 }, anchors: { database: 2, latest: { seq: 5 } } });
    expect((await verify("anc-ok")).walkedFrom).toBe(5);
    expect((await verify("anc-ok", { full: true })).walkedFrom).toBe(0);
  });

  it("reports a truncated tail with the head moved back, which the chain alone accepts", async () => {
    await seed("anc-trunc", 4);
    await anchor("anc-trunc");
    await seed("anc-trunc", 3, 5);
    await anchor("anc-trunc");
    expect((await verify("anc-trunc")).ok).toBe(true);
    await truncate("anc-trunc", 5);

    for (const full of [false, true]) {
      const report = await verify("anc-trunc", { full });
      expect(report.chain.ok).toBe(true);
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([
        expect.objectContaining({ kind: "truncated", seq: 7, origin: "database", message: expect.stringMatching(/^the chain head records 5 events, but 1 anchor\(s\) vouch for more, up to event 7 .*events after 5 were removed$/) }),
      ]);
    }
    await expect(anchor("anc-trunc")).rejects.toThrow(AnchorRefusedError);
  });

  it("reports a wiped project", async () => {
    await seed("anc-wiped", 3);
    await anchor("anc-wiped");
    await tamper(async () => {
      await database.db.execute(sql`delete from file_events where project_key = 'anc-wiped'`);
      await database.db.execute(sql`delete from audit_chain_heads where project_key = 'anc-wiped'`);
    });
    const report = await verify("anc-wiped");
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: "wiped", seq: 3, message: expect.stringContaining("the project's audit trail is gone: no events, but 1 anchor(s) vouch for events up to 3") })]);
  });

  it("reports a full re-chain with recomputed hashes at every anchored event", async () => {
    await seed("anc-rechain", 3);
    await anchor("anc-rechain");
    await seed("anc-rechain", 3, 4);
    await anchor("anc-rechain");
    expect((await verify("anc-rechain")).ok).toBe(true);
    await rechain("anc-rechain");

    const report = await verify("anc-rechain");
    expect(report.chain.ok).toBe(true);
    expect(report.ok).toBe(false);
    expect(report.walkedFrom).toBe(0);
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([["hash_mismatch", 3], ["hash_mismatch", 6]]);
    expect(report.problems[0]!.message).toMatch(/^event 3's hash \(\w{12}…\) is not the anchored one .*: the chain was rewritten at or before event 3$/);
    await expect(anchor("anc-rechain")).rejects.toThrow(/broken at event 6 .*not anchoring/);
  });

  it("still reports truncation, a wipe and a re-chain from an exported anchors file once the anchors table was wiped", async () => {
    const P = { trunc: "anc-file-trunc", wiped: "anc-file-wiped", rechain: "anc-file-rechain" };
    for (const p of Object.values(P)) {
      await seed(p, 4);
      await anchor(p);
    }
    const exported = [P.trunc, P.wiped, P.rechain].map(async (p) => readAnchors(database.db, p));
    const fileAnchors = parseAnchorsFile((await Promise.all(exported)).flat().map((a) => JSON.stringify(a)).join("\n"));
    await truncate(P.trunc, 2);
    await tamper(async () => {
      await database.db.execute(sql`delete from file_events where project_key = ${P.wiped}`);
      await database.db.execute(sql`update audit_chain_heads set last_seq = 0, last_hash = ${GENESIS_HASH} where project_key = ${P.wiped}`);
    });
    await rechain(P.rechain);
    await tamper(() => database.db.execute(sql`delete from audit_anchors where project_key like 'anc-file-%'`));

    for (const p of Object.values(P)) expect((await verify(p)).ok, `${p} without the file`).toBe(true);
    const kinds = async (p: string) => (await verify(p, { fileAnchors })).problems.map((x) => [x.kind, x.seq, x.origin]);
    expect(await kinds(P.trunc)).toEqual([["truncated", 4, "file"]]);
    expect(await kinds(P.wiped)).toEqual([["wiped", 4, "file"]]);
    expect(await kinds(P.rechain)).toEqual([["hash_mismatch", 4, "file"]]);
  });

  it("reports a forged anchor (bad signature) and one signed by an unknown key", async () => {
    await seed("anc-forged", 3);
    await anchor("anc-forged");
    const real = (await readAnchors(database.db, "anc-forged"))[0]!;
    // The attacker re-chains, then writes an anchor for the new head without the key.
    await rechain("anc-forged");
    const [head] = await queryRows<{ last_hash: string }>(database.db, sql`select last_hash from audit_chain_heads where project_key = 'anc-forged'`);
    const other = signerFrom(parsePrivateKey(generateAnchorKeyPem().privateKey));
    const forged = { ...real, hash: head!.last_hash, takenAt: "2026-12-01T00:00:00.000000Z", signature: real.signature };
    const foreign = { ...forged, seq: 2, keyId: other.keyId };
    foreign.signature = other.sign(anchorText(foreign));
    await tamper(async () => {
      await database.db.execute(sql`delete from audit_anchors where project_key = 'anc-forged'`);
      for (const a of [forged, foreign]) {
        await database.db.execute(sql`insert into audit_anchors (project_key, seq, hash, taken_at, key_id, signature)
          values (${a.projectKey}, ${a.seq}, ${a.hash}, ${a.takenAt}::timestamptz, ${a.keyId}, ${a.signature})`);
      }
    });
    const report = await verify("anc-forged");
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([["unknown_key", 2], ["bad_signature", 3]]);
    expect(report.problems[1]!.message).toContain(`does not carry key ${signer.keyId}'s signature: forged or altered`);
    // Without any key, signatures are not checked, and the report says so.
    expect((await verifyAgainstAnchors(database.db, "anc-forged", { publicKeys: [] })).anchors.signaturesChecked).toBe(false);
  });

  it("ignores a verified-position mark that no signed anchor backs, and walks from genesis", async () => {
    await seed("anc-mark", 3);
    await anchor("anc-mark");
    await verify("anc-mark");
    await database.db.execute(sql`update audit_verify_marks set seq = 2, hash = ${"f".repeat(64)} where project_key = 'anc-mark'`);
    const report = await verify("anc-mark");
    expect(report).toMatchObject({ ok: true, walkedFrom: 0 });
  });
});
