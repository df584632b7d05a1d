import { z } from "@hono/zod-openapi";
import { readCosts } from "../reports/costs/read.ts";
import type { ApiDeps, App } from "./app.ts";
import { resolveProjects } from "./listing.ts";
import { json, notFoundError, protectedErrors, protectedRoute } from "./openapi.ts";
import { date, projectParam } from "./params.ts";

const Range = z.object({ expected: z.number().int(), low: z.number().int(), high: z.number().int() }).openapi("CostRange");

const MetricPosition = z
  .object({
    unit: z.enum(["bytes", "operations"]),
    used: z.number().int().openapi({ description: "Traffic and operations: the period's sum so far; storage: its peak daily level so far (storage is billed on the peak)" }),
    latest: z.number().int().nullable().openapi({ description: "The figure of the day reported on; null without one" }),
    included: z.number().int().nullable().openapi({ description: "The plan's allowance; null without pricing" }),
    over: z.number().int().nullable().openapi({ description: "used beyond included; null without pricing" }),
    exceededOn: z.string().nullable().openapi({ format: "date", description: "The day used first passed included in this period" }),
    runsOutOn: z.string().nullable().openapi({ format: "date", description: "At the period's average pace, the day used would pass included (within the period; storage up to a year ahead)" }),
    forecast: Range.nullable().openapi({ description: "The figure at the period's end (storage: the billed peak), with its range" }),
  })
  .openapi("CostMetric");

const Amounts = z
  .object({ fee: z.string(), storage: z.string(), traffic: z.string(), operations: z.string(), total: z.string() })
  .openapi("CostAmounts", { description: "Exact decimal amounts in the currency (two decimals), as text so no client rounds them" });

const Scope = z
  .object({
    scope: z.enum(["account", "project"]),
    projectKey: z.string().nullable(),
    name: z.string(),
    period: z.object({
      start: z.string().openapi({ format: "date" }),
      end: z.string().openapi({ format: "date", description: "Last day, inclusive" }),
      days: z.number().int(),
      daysElapsed: z.number().int(),
      daysLeft: z.number().int(),
    }),
    usage: z.object({ storage: MetricPosition, traffic: MetricPosition, operations: MetricPosition }),
    cost: Amounts.nullable().openapi({ description: "The period's cost so far; null when this scope has no bill of its own (costNote says why)" }),
    forecastCost: z.object({ expected: Amounts, low: Amounts, high: Amounts }).nullable(),
    costNote: z.string().nullable(),
    days: z.array(
      z.object({
        date: z.string(),
        trafficBytesToDate: z.number().int(),
        operationsToDate: z.number().int(),
        storageBytes: z.number().int().nullable(),
        storageBytesPeak: z.number().int().nullable(),
        costToDate: z.string().nullable(),
      }),
    ),
  })
  .openapi("CostScope");

export const CostsSchema = z
  .object({
    configured: z.boolean().openapi({ description: "Whether the configuration file has a pricing block (docs/costs.md)" }),
    reason: z.string().nullable().openapi({ description: "Why no money is shown; null when it is" }),
    currency: z.string().nullable(),
    billingDay: z.number().int().nullable(),
    scope: z.enum(["account", "project"]).nullable().openapi({ description: "account: one plan shared by every project; project: a plan per project" }),
    asOf: z.string().nullable().openapi({ format: "date", description: "The day reported on" }),
    method: z.string().openapi({ description: "How the forecast is made" }),
    account: Scope.nullable(),
    projects: z.array(Scope),
  })
  .openapi("Costs");

const route = protectedRoute("viewer", {
  method: "get",
  path: "/v1/costs",
  operationId: "getCosts",
  tags: ["costs"],
  summary: "What the Uploadcare plan costs so far this billing period, per project and for the account, with a forecast",
  description:
    "Usage to date against the plan's allowances, the cost so far, a forecast to the end of the billing period with its range, and the day each allowance runs out at the current pace. " +
    "The plan comes from the configuration file's pricing block (docs/costs.md); without one, usage is shown without money and `reason` says why. Amounts are exact decimal text.",
  request: {
    query: z.strictObject({
      project: projectParam,
      date: date("The day to report on; its billing period is shown. Default: the latest day with usage figures").optional(),
    }),
  },
  responses: {
    200: json(CostsSchema, "Each scope's position in its billing period"),
    ...protectedErrors,
    ...notFoundError,
  },
});

export function registerCosts(app: App, deps: ApiDeps) {
  const db = deps.database.db;
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const keys = await resolveProjects(db, q.project);
    // One snapshot, so the pricing, the projects and the usage agree.
    const costs = await db.transaction((tx) => readCosts(tx, { asOf: q.date }), { isolationLevel: "repeatable read", accessMode: "read only" });
    return c.json({ ...costs, projects: costs.projects.filter((p) => p.projectKey !== null && keys.includes(p.projectKey)) }, 200);
  });
}
