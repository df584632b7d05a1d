/** The Project API answers at most this many days per request (inclusive range). */
export const USAGE_WINDOW_DAYS = 90;
/** Late figures settle for a while: every run fetches the last days again. */
export const USAGE_REFETCH_DAYS = 3;

export interface DateWindow {
  /** Inclusive, `YYYY-MM-DD`. */
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;

export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function addDays(day: string, days: number): string {
  return dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS));
}

/**
 * The windows one usage run asks for: from the day after the last stored date
 * minus the re-fetch margin (or the backfill start on a first run) up to
 * yesterday in UTC, since the API refuses today, cut into windows of at most
 * 90 days. Pure; `today` is the caller's clock.
 */
export function planUsageWindows(options: { today: Date; lastStoredDay: string | null; backfillDays: number }): DateWindow[] {
  const yesterday = addDays(dayOf(options.today), -1);
  const backfillStart = addDays(dayOf(options.today), -options.backfillDays);
  let from = options.lastStoredDay ? addDays(options.lastStoredDay, 1 - USAGE_REFETCH_DAYS) : backfillStart;
  if (from < backfillStart && !options.lastStoredDay) from = backfillStart;
  const windows: DateWindow[] = [];
  while (from <= yesterday) {
    const end = addDays(from, USAGE_WINDOW_DAYS - 1);
    const to = end < yesterday ? end : yesterday;
    windows.push({ from, to });
    from = addDays(to, 1);
  }
  return windows;
}
