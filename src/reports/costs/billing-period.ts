/**
 * Billing periods on calendar dates (YYYY-MM-DD, UTC, as usage_daily keeps
 * them). A period starts on the billing day of a month and ends the day before
 * the next month's billing day; a month shorter than the billing day starts its
 * period on its last day (billing day 31: Jan 31, Feb 28, Mar 31, Apr 30).
 * reporting.fct_cost_daily computes the same periods in SQL.
 */

export interface BillingPeriod {
  /** First day, inclusive. */
  start: string;
  /** Last day, inclusive. */
  end: string;
  days: number;
}

const MS_PER_DAY = 86_400_000;

export function toDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dayMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

export function addDays(day: string, n: number): string {
  return toDay(dayMs(day) + n * MS_PER_DAY);
}

/** Whole days from `a` to `b` (b − a). */
export function daysBetween(a: string, b: string): number {
  return Math.round((dayMs(b) - dayMs(a)) / MS_PER_DAY);
}

function daysInMonth(year: number, month0: number): number {
  return new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();
}

/** The billing date of a month: the billing day, or the month's last day when it is shorter. */
function billingDate(year: number, month0: number, billingDay: number): string {
  const normalized = new Date(Date.UTC(year, month0, 1));
  const y = normalized.getUTCFullYear();
  const m = normalized.getUTCMonth();
  return toDay(Date.UTC(y, m, Math.min(billingDay, daysInMonth(y, m))));
}

/** The billing period a day falls in. */
export function billingPeriodOf(day: string, billingDay: number): BillingPeriod {
  const date = new Date(dayMs(day));
  const year = date.getUTCFullYear();
  const month0 = date.getUTCMonth();
  const thisMonth = billingDate(year, month0, billingDay);
  const startMonth0 = day >= thisMonth ? month0 : month0 - 1;
  const start = billingDate(year, startMonth0, billingDay);
  const end = addDays(billingDate(year, startMonth0 + 1, billingDay), -1);
  return { start, end, days: daysBetween(start, end) + 1 };
}
