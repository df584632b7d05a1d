import { describe, expect, it } from "vitest";
import { CostCard } from "../../src/api/dashboard/cost-card.tsx";
import { parsePricing } from "../../src/pricing-schema.ts";
import { computeCosts } from "../../src/reports/costs/compute.ts";
import { pricingBlock, usageSeries } from "./series.ts";

const projects = [
  { key: "p1", name: "first" },
  { key: "p2", name: "second" },
];

async function html(node: unknown): Promise<string> {
  return String(await (node as { toString(): string | Promise<string> }).toString());
}

describe("the dashboard's cost card", () => {
  it("shows the cost so far, the forecast with its range, the allowances and a chart", async () => {
    const costs = computeCosts({ pricing: parsePricing(pricingBlock("p2"), ["p1", "p2"]), projects, usage: usageSeries("p1", "p2"), asOf: "2026-03-15" });
    const card = await html(CostCard({ costs, projectKey: "p1" }));
    expect(card).toContain("EUR 10.25");
    expect(card).toContain("EUR 11.32");
    expect(card).toContain("range 11.32 – 11.32");
    expect(card).toContain("exceeded on 2026-03-12");
    expect(card).toMatch(/<img src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+"/);
    // The all-projects page: the account's bill, the sum of the projects' plans.
    expect(await html(CostCard({ costs }))).toContain("EUR 10.38");
  });

  it("shows usage without money and says why without pricing", async () => {
    const costs = computeCosts({ pricing: undefined, projects, usage: usageSeries("p1", "p2"), asOf: "2026-03-15" });
    const card = await html(CostCard({ costs, projectKey: "p1" }));
    expect(card).toContain("no pricing block in the configuration file");
    expect(card).toContain("6.00 GB");
    expect(card).not.toMatch(/EUR|USD|Forecast for the period/);
  });
});
