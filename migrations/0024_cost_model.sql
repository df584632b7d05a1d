-- Custom SQL migration file, put your code below! --
-- The cost model (docs/costs.md). pricing_plans keeps the plans the configuration
-- file describes (src/db/queries/pricing-plans.ts writes a new generation at start-up
-- when they change; insert-only, so earlier plans stay as history), and
-- reporting.fct_cost_daily applies the latest generation to usage_daily day by day.
-- src/reports/costs/compute.ts computes the same figures for GET /v1/costs and the
-- weekly report; test/costs/ checks that the three agree to the cent.
CREATE TABLE pricing_plans (
  project_key text NOT NULL,
  recorded_at timestamp(6) with time zone NOT NULL,
  configured boolean NOT NULL,
  scope text CHECK (scope IN ('account', 'project')),
  currency text CHECK (currency ~ '^[A-Z]{3}$'),
  billing_day smallint CHECK (billing_day BETWEEN 1 AND 31),
  monthly_fee_cents bigint CHECK (monthly_fee_cents >= 0),
  included_storage_bytes bigint CHECK (included_storage_bytes >= 0),
  included_traffic_bytes bigint CHECK (included_traffic_bytes >= 0),
  included_operations bigint CHECK (included_operations >= 0),
  storage_gb_price_micros bigint CHECK (storage_gb_price_micros >= 0),
  traffic_gb_price_micros bigint CHECK (traffic_gb_price_micros >= 0),
  thousand_operations_price_micros bigint CHECK (thousand_operations_price_micros >= 0),
  CONSTRAINT pricing_plans_pkey PRIMARY KEY (project_key, recorded_at),
  CONSTRAINT pricing_plans_complete CHECK (NOT configured OR (scope IS NOT NULL AND currency IS NOT NULL AND billing_day IS NOT NULL
    AND monthly_fee_cents IS NOT NULL AND included_storage_bytes IS NOT NULL AND included_traffic_bytes IS NOT NULL
    AND included_operations IS NOT NULL AND storage_gb_price_micros IS NOT NULL AND traffic_gb_price_micros IS NOT NULL
    AND thousand_operations_price_micros IS NOT NULL))
);
--> statement-breakpoint
COMMENT ON TABLE pricing_plans IS 'The Uploadcare plans of the configuration file''s pricing block, one generation (rows sharing recorded_at) per change; project_key is a project, or * for a plan the whole account shares. The latest generation is in force.';
--> statement-breakpoint
-- Money is whole cents: each overage is (units over × price in millionths), rounded half
-- up to the cent with exact numeric div, exactly as src/reports/costs/money.ts does.
-- Storage is billed on the period's peak day; traffic and operations are sums.
CREATE VIEW reporting.fct_cost_daily AS
WITH plan AS (
  SELECT p.* FROM pricing_plans p
  WHERE p.configured AND p.recorded_at = (SELECT max(recorded_at) FROM pricing_plans)
), usage AS (
  SELECT pl.project_key AS scope_key, u.date AS day,
    sum(u.value) FILTER (WHERE u.metric = 'traffic') AS traffic_bytes,
    sum(u.value) FILTER (WHERE u.metric = 'storage') AS storage_bytes,
    sum(u.value) FILTER (WHERE u.metric = 'operations') AS operations
  FROM plan pl
  JOIN usage_daily u ON pl.project_key = '*' OR u.project_key = pl.project_key
  GROUP BY pl.project_key, u.date
), days AS (
  SELECT s.scope_key, s.first_day + g.i AS day
  FROM (SELECT scope_key, min(day) AS first_day, max(day) AS last_day FROM usage GROUP BY scope_key) s
  CROSS JOIN LATERAL generate_series(0, s.last_day - s.first_day) AS g(i)
), periods AS (
  SELECT d.scope_key, d.day, u.traffic_bytes, u.storage_bytes, u.operations, b.period_start,
    (n.next_month + least(pl.billing_day, extract(day FROM n.next_month + interval '1 month - 1 day')::int) - 2) AS period_end
  FROM days d
  JOIN plan pl ON pl.project_key = d.scope_key
  LEFT JOIN usage u ON u.scope_key = d.scope_key AND u.day = d.day
  CROSS JOIN LATERAL (SELECT d.day - extract(day FROM d.day)::int + 1 AS month_start) m
  CROSS JOIN LATERAL (SELECT
    m.month_start + least(pl.billing_day, extract(day FROM m.month_start + interval '1 month - 1 day')::int) - 1 AS this_bill,
    (m.month_start - interval '1 month')::date + least(pl.billing_day, extract(day FROM m.month_start - 1)::int) - 1 AS previous_bill) bills
  CROSS JOIN LATERAL (SELECT CASE WHEN d.day >= bills.this_bill THEN bills.this_bill ELSE bills.previous_bill END AS period_start) b
  CROSS JOIN LATERAL (SELECT (b.period_start - extract(day FROM b.period_start)::int + 1 + interval '1 month')::date AS next_month) n
), running AS (
  SELECT p.*,
    sum(coalesce(p.traffic_bytes, 0)) OVER w AS traffic_to_date,
    sum(coalesce(p.operations, 0)) OVER w AS operations_to_date,
    max(p.storage_bytes) OVER w AS storage_peak
  FROM periods p
  WINDOW w AS (PARTITION BY p.scope_key, p.period_start ORDER BY p.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT
  CASE WHEN r.scope_key = '*' THEN 'account' ELSE 'project' END AS scope,
  r.scope_key AS project_key,
  r.day,
  pl.currency,
  r.period_start,
  r.period_end,
  (r.day - r.period_start + 1) AS period_day,
  (r.period_end - r.period_start + 1) AS period_days,
  r.traffic_bytes::bigint AS traffic_bytes,
  r.storage_bytes::bigint AS storage_bytes,
  r.operations::bigint AS operations,
  r.traffic_to_date::bigint AS traffic_bytes_to_date,
  r.operations_to_date::bigint AS operations_to_date,
  r.storage_peak::bigint AS storage_bytes_peak,
  pl.included_traffic_bytes,
  pl.included_operations,
  pl.included_storage_bytes,
  o.traffic_over_bytes::bigint AS traffic_over_bytes,
  o.operations_over::bigint AS operations_over,
  o.storage_over_bytes::bigint AS storage_over_bytes,
  (pl.monthly_fee_cents * 0.01)::numeric(14,2) AS monthly_fee,
  (c.traffic * 0.01)::numeric(14,2) AS traffic_overage_cost,
  (c.operations * 0.01)::numeric(14,2) AS operations_overage_cost,
  (c.storage * 0.01)::numeric(14,2) AS storage_overage_cost,
  ((pl.monthly_fee_cents + c.traffic + c.operations + c.storage) * 0.01)::numeric(14,2) AS cost_to_date
FROM running r
JOIN plan pl ON pl.project_key = r.scope_key
CROSS JOIN LATERAL (SELECT
  greatest(r.traffic_to_date - pl.included_traffic_bytes, 0) AS traffic_over_bytes,
  greatest(r.operations_to_date - pl.included_operations, 0) AS operations_over,
  greatest(coalesce(r.storage_peak, 0) - pl.included_storage_bytes, 0) AS storage_over_bytes) o
CROSS JOIN LATERAL (SELECT
  div(o.traffic_over_bytes * pl.traffic_gb_price_micros + 5000000000000, 10000000000000) AS traffic,
  div(o.operations_over * pl.thousand_operations_price_micros + 5000000, 10000000) AS operations,
  div(o.storage_over_bytes * pl.storage_gb_price_micros + 5000000000000, 10000000000000) AS storage) c;
--> statement-breakpoint
COMMENT ON VIEW reporting.fct_cost_daily IS 'What the Uploadcare plan costs so far, one row per billing scope and day (docs/costs.md): usage to date in the day''s billing period against the plan''s allowances, and the cost so far. From the pricing block of the configuration file; empty without one.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.scope IS 'project (the project has a plan of its own) or account (one plan shared by every project; project_key is *).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.project_key IS 'The project (dim_project); * when scope is account (never null, so exports can page by it).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.day IS 'The date of the usage figures (UTC); every day from the first to the last with figures.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.currency IS 'ISO 4217 code of every amount in the row.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.period_start IS 'First day of the billing period holding day: the billing day of a month, or the month''s last day when it is shorter.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.period_end IS 'Last day of that billing period (inclusive): the day before the next one starts.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.period_day IS 'Which day of the period day is, from 1.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.period_days IS 'Days in the billing period.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.traffic_bytes IS 'CDN traffic on the day, bytes; null when Uploadcare gave no figure.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.storage_bytes IS 'Bytes stored on the day; null when Uploadcare gave no figure.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.operations IS 'Operations on the day; null when Uploadcare gave no figure.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.traffic_bytes_to_date IS 'Traffic from period_start to day, bytes.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.operations_to_date IS 'Operations from period_start to day.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.storage_bytes_peak IS 'The largest daily storage figure from period_start to day, bytes: storage is billed on the period''s peak.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.included_traffic_bytes IS 'Traffic the plan includes per period, bytes (1 GB = 1,000,000,000 bytes).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.included_operations IS 'Operations the plan includes per period.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.included_storage_bytes IS 'Storage the plan includes, bytes.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.traffic_over_bytes IS 'Traffic to date beyond the allowance, bytes (0 within it).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.operations_over IS 'Operations to date beyond the allowance (0 within it).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.storage_over_bytes IS 'The storage peak beyond the allowance, bytes (0 within it).';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.monthly_fee IS 'The plan''s fee for the period.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.traffic_overage_cost IS 'traffic_over_bytes at the price per extra GB, rounded half up to the cent.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.operations_overage_cost IS 'operations_over at the price per extra 1,000 operations, rounded half up to the cent.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.storage_overage_cost IS 'storage_over_bytes at the price per extra GB, rounded half up to the cent.';
--> statement-breakpoint
COMMENT ON COLUMN reporting.fct_cost_daily.cost_to_date IS 'The period''s cost so far: monthly_fee plus the three overage costs.';
--> statement-breakpoint
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ucledger_analyst') THEN
    GRANT SELECT ON reporting.fct_cost_daily TO ucledger_analyst;
  END IF;
END
$$;
