import { sql } from "drizzle-orm";
import { ACCOUNT_SCOPE, type Plan, type Pricing } from "../../pricing-schema.ts";
import type { Queryable } from "../client.ts";
import { queryRows } from "../query.ts";
import { dateToTimestamp } from "../timestamps.ts";

/**
 * `pricing_plans` holds the configured plans where SQL can see them
 * (reporting.fct_cost_daily) and where every instance reads the same ones.
 * Insert-only: each start records the configuration's pricing as a new
 * generation (one row per billing scope, all with the same recorded_at) when it
 * differs from the latest one, so earlier plans stay as history. No pricing
 * block is recorded too, as one `configured = false` row.
 */

interface PlanRow {
  project_key: string;
  configured: boolean;
  scope: "account" | "project" | null;
  currency: string | null;
  billing_day: number | null;
  monthly_fee_cents: string | null;
  included_storage_bytes: string | null;
  included_traffic_bytes: string | null;
  included_operations: string | null;
  storage_gb_price_micros: string | null;
  traffic_gb_price_micros: string | null;
  thousand_operations_price_micros: string | null;
}

type Row = Omit<PlanRow, "billing_day"> & { billing_day: number | null };

function rowsOf(pricing: Pricing | undefined): Row[] {
  if (!pricing) {
    return [
      {
        project_key: ACCOUNT_SCOPE,
        configured: false,
        scope: null,
        currency: null,
        billing_day: null,
        monthly_fee_cents: null,
        included_storage_bytes: null,
        included_traffic_bytes: null,
        included_operations: null,
        storage_gb_price_micros: null,
        traffic_gb_price_micros: null,
        thousand_operations_price_micros: null,
      },
    ];
  }
  return Object.entries(pricing.plans)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, plan]) => ({
      project_key: key,
      configured: true,
      scope: pricing.scope,
      currency: pricing.currency,
      billing_day: pricing.billingDay,
      monthly_fee_cents: String(plan.monthlyFeeCents),
      included_storage_bytes: String(plan.includedStorageBytes),
      included_traffic_bytes: String(plan.includedTrafficBytes),
      included_operations: String(plan.includedOperations),
      storage_gb_price_micros: String(plan.storageGbPriceMicros),
      traffic_gb_price_micros: String(plan.trafficGbPriceMicros),
      thousand_operations_price_micros: String(plan.thousandOperationsPriceMicros),
    }));
}

async function latestRows(db: Queryable): Promise<Row[]> {
  return queryRows<Row>(
    db,
    sql`select project_key, configured, scope, currency, billing_day::int as billing_day,
          monthly_fee_cents::text as monthly_fee_cents, included_storage_bytes::text as included_storage_bytes,
          included_traffic_bytes::text as included_traffic_bytes, included_operations::text as included_operations,
          storage_gb_price_micros::text as storage_gb_price_micros, traffic_gb_price_micros::text as traffic_gb_price_micros,
          thousand_operations_price_micros::text as thousand_operations_price_micros
        from pricing_plans
        where recorded_at = (select max(recorded_at) from pricing_plans)
        order by project_key`,
  );
}

/**
 * Records the configuration's pricing (undefined: no pricing block) unless the
 * latest recorded generation says the same. Answers whether it wrote.
 */
export async function recordPricing(db: Queryable, pricing: Pricing | undefined, now: Date): Promise<boolean> {
  const wanted = rowsOf(pricing);
  const latest = await latestRows(db);
  if (JSON.stringify(latest) === JSON.stringify(wanted)) return false;
  await db.execute(
    sql`insert into pricing_plans (project_key, recorded_at, configured, scope, currency, billing_day, monthly_fee_cents,
          included_storage_bytes, included_traffic_bytes, included_operations,
          storage_gb_price_micros, traffic_gb_price_micros, thousand_operations_price_micros)
        select r.project_key, ${dateToTimestamp(now)}::timestamptz, r.configured, r.scope, r.currency, r.billing_day, r.monthly_fee_cents,
          r.included_storage_bytes, r.included_traffic_bytes, r.included_operations,
          r.storage_gb_price_micros, r.traffic_gb_price_micros, r.thousand_operations_price_micros
        from jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb) as r(project_key text, configured boolean, scope text, currency text,
          billing_day smallint, monthly_fee_cents bigint, included_storage_bytes bigint, included_traffic_bytes bigint,
          included_operations bigint, storage_gb_price_micros bigint, traffic_gb_price_micros bigint, thousand_operations_price_micros bigint)
        on conflict do nothing`,
  );
  return true;
}

/** The pricing last recorded; undefined when none was ever recorded or the latest says there is none. */
export async function readPricing(db: Queryable): Promise<Pricing | undefined> {
  const rows = (await latestRows(db)).filter((r) => r.configured);
  const first = rows[0];
  if (!first || !first.currency || first.billing_day === null || !first.scope) return undefined;
  const plans: Record<string, Plan> = {};
  for (const r of rows) {
    plans[r.project_key] = {
      monthlyFeeCents: Number(r.monthly_fee_cents),
      includedStorageBytes: Number(r.included_storage_bytes),
      includedTrafficBytes: Number(r.included_traffic_bytes),
      includedOperations: Number(r.included_operations),
      storageGbPriceMicros: Number(r.storage_gb_price_micros),
      trafficGbPriceMicros: Number(r.traffic_gb_price_micros),
      thousandOperationsPriceMicros: Number(r.thousand_operations_price_micros),
    };
  }
  return { currency: first.currency, billingDay: first.billing_day, scope: first.scope, plans };
}
