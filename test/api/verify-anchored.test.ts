import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateAnchorKeyPem, parsePrivateKey, parsePublicKey, signerFrom } from "../../src/db/audit/anchor-key.ts";
import { takeAnchor } from "../../src/db/audit/anchors.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { apiHarness, appendTo, event, type ApiHarness } from "./helpers.ts";

/**
 * GET /v1/audit/verify with the deployment's anchor keys: checked against the
 * signed anchors, on a worker, and from the last verified anchor on the next call.
 */

const keys = generateAnchorKeyPem();
const signer = signerFrom(parsePrivateKey(keys.privateKey));
const publicKey = parsePublicKey(keys.publicKey);

interface Report {
  projectKey: string;
  ok: boolean;
  events: number;
  walkedFrom?: number;
  anchors?: { database: number; signaturesChecked: boolean; latest: { seq: number } | null };
  problems?: { kind: string; seq: number; message: string }[];
}

describe.each(backends)("audit verification against anchors through the API on %s", (kind) => {
  let database: TestDatabase;
  let api: ApiHarness;
  const P = "verify-anchored";
  const verify = async () => (await api.json<{ ok: boolean; projects: Report[] }>(`/v1/audit/verify?project=${P}`)).body.projects[0]!;
  const append = (count: number) =>
    appendTo(database.db, P, Array.from({ length: count }, (_, i) => event(null, { kind: "action", source: "action", actor: "cli:test", after: { n: i } })));

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    api = await apiHarness(database, { auditPublicKeys: [keys.publicKey] });
    await append(30);
    await takeAnchor(database.db, P, signer, publicKey, new Date());
  });
  afterAll(async () => {
    await database?.close();
  });

  it("checks the anchors, then walks on from the last verified one", async () => {
    const first = await verify();
    expect(first).toMatchObject({ ok: true, events: 30, walkedFrom: 0, problems: [] });
    expect(first.anchors).toMatchObject({ database: 1, signaturesChecked: true, latest: { seq: 30 } });
    await append(5);
    const second = await verify();
    expect(second).toMatchObject({ ok: true, events: 35, walkedFrom: 30 });
  });

  it("names a truncated tail whose head was moved back, which the chain alone would pass", async () => {
    await database.db.execute(sql`alter table file_events disable trigger user`);
    try {
      await database.db.execute(sql`delete from file_events where project_key = ${P} and seq > 20`);
      await database.db.execute(sql`update audit_chain_heads set last_seq = 20,
        last_hash = (select hash from file_events where project_key = ${P} and seq = 20) where project_key = ${P}`);
    } finally {
      await database.db.execute(sql`alter table file_events enable trigger user`);
    }
    const report = await verify();
    expect(report.ok).toBe(false);
    expect(report.problems?.map((p) => p.kind)).toContain("truncated");
  });
});
