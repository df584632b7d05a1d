import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type App } from "../../src/api/app.ts";
import { createToken } from "../../src/db/queries/tokens.ts";
import { queryRows } from "../../src/db/query.ts";
import { registerProjects } from "../../src/db/queries/projects.ts";
import { approvalLines } from "../../src/cli/plan.ts";
import type { ApprovalSettings, ApprovalState } from "../../src/decisions/review.ts";
import { parseEnv } from "../../src/env.ts";
import { ConfigError } from "../../src/errors.ts";
import { silentLogger } from "../../src/logger.ts";
import { insertFiles, uuidOf, type ErrorBody } from "../api/helpers.ts";
import { backends, createTestDatabase, type TestDatabase } from "../support/db.ts";
import { planEvents } from "./helpers.ts";

/**
 * Four eyes: the proposer cannot approve their own plan, and a plan is
 * approved only by enough distinct other approvers (one by default, two above
 * the size limits, or what the deployment sets). The API, the CLI's text and
 * the dashboard say who still has to approve.
 */

interface Approvals {
  required: number;
  received: { actor: string; at: string; reason: string }[];
  stillNeeded: number;
  cannotApprove: string[];
}
interface Plan {
  id: string;
  status: string;
  proposedBy: string;
  requiredApprovals: number;
  approvals: Approvals;
}

let serial = 0;

/** An app on the database, and operators with names of their own (the actor is `token:<name>`). */
async function harness(database: TestDatabase, approvals?: ApprovalSettings) {
  const app: App = createApp({
    database,
    logger: silentLogger,
    version: "test",
    projects: [],
    ...(approvals ? { decisions: { clientFor: () => { throw new Error("no Uploadcare in this test"); }, approvals } } : {}),
  });
  const people: Record<string, { token: string; actor: string }> = {};
  for (const who of ["ann", "bob", "cy", "dee"]) {
    serial += 1;
    const name = `${who}-${process.pid}-${serial}`;
    const role = who === "dee" ? "admin" : "operator";
    people[who] = { token: (await createToken(database.db, { name, role, createdBy: "test", now: new Date() })).token, actor: `token:${name}` };
  }
  async function as<T>(who: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { authorization: `Bearer ${people[who]!.token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await app.request(path, body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as T };
  }
  return { app, people, as };
}

describe.each(backends)("four eyes on %s", (kind) => {
  let database: TestDatabase;
  const project = `four-eyes-${kind}`;
  let policySerial = 0;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await registerProjects(database.db, [{ projectKey: project, name: "Four eyes", isDemo: false }]);
    const uploaded = new Date(Date.now() - 30 * 86_400_000).toISOString();
    await insertFiles(database.db, [
      ...Array.from({ length: 6 }, (_, i) => ({ projectKey: project, uuid: uuidOf(i + 1), uploaded, filename: `f${i}.png`, size: 1000 })),
      // Kept out of every plan: a policy matching every live file is refused.
      { projectKey: project, uuid: uuidOf(7), uploaded, filename: "keep.pdf", mimeType: "application/pdf" },
    ]);
  });
  afterAll(async () => {
    await database?.close();
  });

  /** A policy matching the six PNGs, and a plan of it proposed by `who`. Large when its two-approver limit is below six files. */
  async function propose(h: Awaited<ReturnType<typeof harness>>, who: string, large: boolean): Promise<Plan> {
    policySerial += 1;
    const policy = await h.as<{ id: string }>(who, "/v1/policies", { project, name: `pngs ${policySerial}`, action: "delete", conditions: [{ kind: "mime", types: ["image/png"] }] });
    expect(policy.status).toBe(201);
    const plan = await h.as<Plan>(who, "/v1/plans", { project, policy: policy.body.id, ...(large ? { options: { twoApproversAboveFiles: 5 } } : {}) });
    expect(plan.status, JSON.stringify(plan.body)).toBe(201);
    return plan.body;
  }

  it("refuses the proposer's own approval (403, naming why), records nothing, and lets one other approver approve a plan within the limits", async () => {
    const h = await harness(database);
    const plan = await propose(h, "ann", false);
    expect(plan.approvals).toEqual({ required: 1, received: [], stillNeeded: 1, cannotApprove: [h.people["ann"]!.actor] });

    const own = await h.as<ErrorBody>("ann", `/v1/plans/${plan.id}/approve`, { reason: "I checked my own plan" });
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe("FORBIDDEN");
    expect(own.body.error.message).toBe(`${h.people["ann"]!.actor} proposed plan ${plan.id} and cannot approve it: it needs 1 approval from someone other than the proposer`);
    const [{ n }] = (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from plan_approvals where plan_id = ${plan.id}::uuid`)) as [{ n: number }];
    expect(n).toBe(0);

    const approved = await h.as<Plan>("bob", `/v1/plans/${plan.id}/approve`, { reason: "sample checked" });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe("approved");
    expect(approved.body.approvals).toMatchObject({ required: 1, received: [{ actor: h.people["bob"]!.actor, reason: "sample checked" }], stillNeeded: 0 });
    expect(approved.body.approvals.received[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT/);

    // The audit trail: one approval with its reason, then approved, both by bob; nothing by ann after the proposal.
    const events = (await planEvents(database.db, plan.id)).map((e) => [e.after?.["event"], e.actor, e.after?.["reason"] ?? null]);
    expect(events).toEqual([
      ["proposed", h.people["ann"]!.actor, null],
      ["approval", h.people["bob"]!.actor, "sample checked"],
      ["approved", h.people["bob"]!.actor, null],
    ]);
  });

  it("needs two distinct others above the size limits; the same approver twice gets 409 and counts once; an admin is no exception", async () => {
    const h = await harness(database);
    const plan = await propose(h, "ann", true);
    expect(plan.requiredApprovals).toBe(2);
    expect(plan.approvals).toMatchObject({ required: 2, stillNeeded: 2 });

    expect((await h.as<ErrorBody>("ann", `/v1/plans/${plan.id}/approve`, { reason: "mine" })).status).toBe(403);
    const first = await h.as<Plan>("bob", `/v1/plans/${plan.id}/approve`, { reason: "first look" });
    expect(first.body.status).toBe("proposed");
    expect(first.body.approvals).toMatchObject({ required: 2, stillNeeded: 1, cannotApprove: [h.people["ann"]!.actor, h.people["bob"]!.actor] });

    const twice = await h.as<ErrorBody>("bob", `/v1/plans/${plan.id}/approve`, { reason: "looked again" });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toMatch(/already approved .* another approval must come from someone else/);
    const shown = await h.as<Plan>("cy", `/v1/plans/${plan.id}`);
    expect(shown.body).toMatchObject({ status: "proposed", approvals: { stillNeeded: 1 } });
    expect(shown.body.approvals.received.map((r) => r.reason)).toEqual(["first look"]);

    const second = await h.as<Plan>("dee", `/v1/plans/${plan.id}/approve`, { reason: "second pair of eyes" });
    expect(second.body.status).toBe("approved");
    expect(second.body.approvals).toMatchObject({ required: 2, stillNeeded: 0 });
    expect(second.body.approvals.received.map((r) => r.actor)).toEqual([h.people["bob"]!.actor, h.people["dee"]!.actor]);
    const [approval] = (await planEvents(database.db, plan.id)).filter((e) => e.after?.["event"] === "approval");
    expect(approval!.after).toMatchObject({ reason: "first look", approvals: 1, requiredApprovals: 2, stillNeeded: 1 });

    // A proposer that is an admin is no exception either.
    const admins = await propose(h, "dee", false);
    expect((await h.as<ErrorBody>("dee", `/v1/plans/${admins.id}/approve`, { reason: "admin" })).status).toBe(403);
  });

  it("takes the number of approvers from the deployment's settings", async () => {
    const h = await harness(database, { required: 2, requiredLarge: 3 });
    const small = await propose(h, "ann", false);
    expect(small.approvals).toMatchObject({ required: 2, stillNeeded: 2 });
    expect(small.requiredApprovals).toBe(2);
    await h.as("bob", `/v1/plans/${small.id}/approve`, { reason: "one" });
    const done = await h.as<Plan>("cy", `/v1/plans/${small.id}/approve`, { reason: "two" });
    expect(done.body.status).toBe("approved");
    // The number it took is kept on the plan.
    const [row] = await queryRows<{ required_approvals: number }>(database.db, sql`select required_approvals from plans where id = ${small.id}::uuid`);
    expect(row?.required_approvals).toBe(2);

    const large = await propose(h, "ann", true);
    expect(large.approvals).toMatchObject({ required: 3, stillNeeded: 3 });
    const listed = await h.as<{ data: { id: string; requiredApprovals: number }[] }>("bob", `/v1/plans?project=${project}&status=proposed`);
    expect(listed.body.data.find((p) => p.id === large.id)?.requiredApprovals).toBe(3);
    for (const who of ["bob", "cy"]) expect((await h.as<Plan>(who, `/v1/plans/${large.id}/approve`, { reason: who })).body.status).toBe("proposed");
    expect((await h.as<Plan>("dee", `/v1/plans/${large.id}/approve`, { reason: "third" })).body.status).toBe("approved");
  });

  it("the dashboard tells the proposer someone else must approve, and another operator how many more are needed and from whom", async () => {
    const h = await harness(database);
    const plan = await propose(h, "ann", true);
    await h.as("bob", `/v1/plans/${plan.id}/approve`, { reason: "first look" });

    async function pageAs(who: string): Promise<string> {
      const signIn = await h.app.request("/dashboard/sign-in");
      const pre = signIn.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
      const csrf = /name="_csrf" value="([^"]+)"/.exec(await signIn.text())![1]!;
      const res = await h.app.request("/dashboard/sign-in", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: pre },
        body: new URLSearchParams({ token: h.people[who]!.token, _csrf: csrf }).toString(),
      });
      expect(res.status).toBe(303);
      const jar = new Map<string, string>();
      for (const pair of [...pre.split("; "), ...res.headers.getSetCookie().map((c) => c.split(";")[0]!)].filter(Boolean)) jar.set(pair.slice(0, pair.indexOf("=")), pair);
      return (await h.app.request(`/dashboard/plans/${plan.id}`, { headers: { cookie: [...jar.values()].join("; ") } })).text();
    }

    const ann = await pageAs("ann");
    expect(ann).toContain("You proposed this plan, so you cannot approve it: 1 more approval is needed from someone else.");
    expect(ann).not.toContain(`action="/dashboard/plans/${plan.id}/approve"`);
    const bob = await pageAs("bob");
    expect(bob).toContain("You approved this plan: 1 more approval is needed from someone else.");
    expect(bob).not.toContain(`action="/dashboard/plans/${plan.id}/approve"`);
    const cy = await pageAs("cy");
    expect(cy).toContain(`action="/dashboard/plans/${plan.id}/approve"`);
    expect(cy).toContain("1 of 2 received");
    expect(cy).toContain(
      `1 more approval is needed, from anyone but ${h.people["ann"]!.actor} (who proposed it: a proposer cannot approve) and ${h.people["bob"]!.actor} (who approved already).`,
    );
    expect(cy).toContain(`${h.people["bob"]!.actor}, `);
    expect(cy).toContain("“first look”");
  });
});

describe("the CLI's approvals line", () => {
  const state = (s: Partial<ApprovalState>): ApprovalState => ({ required: 2, received: [], stillNeeded: 2, cannotApprove: ["cli:ann"], ...s });

  it("names who approved, how many more are needed, and who cannot give them", () => {
    expect(approvalLines(state({}))).toBe("  approvals 0 of 2, 2 more needed from anyone but cli:ann (proposed it; a proposer cannot approve)");
    const one = state({ received: [{ actor: "token:bob", at: "2026-01-02T03:04:05.000Z", reason: "looks right" }], stillNeeded: 1, cannotApprove: ["cli:ann", "token:bob"] });
    expect(approvalLines(one)).toBe(
      "  approvals 1 of 2, 1 more needed from anyone but cli:ann (proposed it; a proposer cannot approve) and token:bob (approved)\n    token:bob at 2026-01-02T03:04:05.000Z: looks right",
    );
    expect(approvalLines(state({ required: 1, received: one.received, stillNeeded: 0 }))).toBe("  approvals 1 of 1\n    token:bob at 2026-01-02T03:04:05.000Z: looks right");
  });
});

describe("the approval settings", () => {
  it("default to one approver within the size limits and two above, and take the deployment's numbers", () => {
    expect(parseEnv({}).approvals).toEqual({ required: 1, requiredLarge: 2 });
    expect(parseEnv({ UCLEDGER_APPROVALS_REQUIRED: "2", UCLEDGER_APPROVALS_REQUIRED_LARGE: "3" }).approvals).toEqual({ required: 2, requiredLarge: 3 });
  });

  it.each([
    [{ UCLEDGER_APPROVALS_REQUIRED: "0" }, "UCLEDGER_APPROVALS_REQUIRED: must be a whole number from 1 to 10"],
    [{ UCLEDGER_APPROVALS_REQUIRED_LARGE: "two" }, "UCLEDGER_APPROVALS_REQUIRED_LARGE: must be a whole number from 1 to 10"],
    [{ UCLEDGER_APPROVALS_REQUIRED: "3" }, "UCLEDGER_APPROVALS_REQUIRED_LARGE: must be at least UCLEDGER_APPROVALS_REQUIRED (a large plan never needs fewer approvers)"],
  ])("refuses %j, naming the variable", (source, message) => {
    expect(() => parseEnv(source)).toThrow(new ConfigError(message));
  });
});
