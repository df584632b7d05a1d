import { sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { readPricing } from "../../db/queries/pricing-plans.ts";
import { queryRows } from "../../db/query.ts";
import { addDays, billingPeriodOf } from "./billing-period.ts";
import { computeCosts, type CostsReport, type UsageRow } from "./compute.ts";

/** The last 7 days before a period can feed its forecast's range. */
const LOOKBACK_DAYS = 8;

export interface ReadCostsInput {
  /** The day to report on; default the latest day with usage figures up to `latestDay`. */
  asOf?: string | undefined;
  /** No figure after this day counts (the report's last day); default none. */
  latestDay?: string | undefined;
}

export const NO_USAGE_REASON = "no usage figures yet: the usage stream needs a Project API token (UPLOADCARE_PROJECT_API_TOKEN or projectApiToken)";

/**
 * Reads the recorded pricing, the projects and the usage of the billing period
 * holding the day asked (with the week before it, for the forecast's range),
 * and computes every scope's costs. Run it in one read-only snapshot when the
 * figures must agree with other reads.
 */
export async function readCosts(db: Queryable, input: ReadCostsInput = {}): Promise<CostsReport> {
  const pricing = await readPricing(db);
  const projects = await queryRows<{ key: string; name: string }>(db, sql`select project_key as key, name from projects order by project_key`);
  let asOf = input.asOf;
  if (!asOf) {
    const [latest] = await queryRows<{ day: string | null }>(
      db,
      input.latestDay ? sql`select max(date)::text as day from usage_daily where date <= ${input.latestDay}::date` : sql`select max(date)::text as day from usage_daily`,
    );
    asOf = latest?.day ?? undefined;
  }
  if (!asOf) {
    const empty = computeCosts({ pricing, projects, usage: [], asOf: input.latestDay ?? "1970-01-01" });
    return { ...empty, asOf: null, account: null, projects: [], reason: empty.reason ?? NO_USAGE_REASON };
  }
  const period = billingPeriodOf(asOf, pricing?.billingDay ?? 1);
  const usage = await queryRows<UsageRow>(
    db,
    sql`select project_key as "projectKey", date::text as date, metric, value::float8 as value
        from usage_daily where date between ${addDays(period.start, -LOOKBACK_DAYS)}::date and ${asOf}::date`,
  );
  return computeCosts({ pricing, projects, usage, asOf });
}
