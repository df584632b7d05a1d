import { CronExpressionParser } from "cron-parser";
import cron from "node-cron";
import { ConfigError } from "../errors.ts";

/** A slot is the scheduled time of one fire, whole seconds, canonical ISO. */
export function slotOf(date: Date): string {
  const seconds = Math.floor(date.getTime() / 1000) * 1000;
  return `${new Date(seconds).toISOString().slice(0, 19)}.000000Z`;
}

/** The latest scheduled time at or before `now`, for catching up a missed fire. */
export function previousSlot(expression: string, timezone: string, now: Date): string {
  const interval = CronExpressionParser.parse(expression, { currentDate: new Date(now.getTime() + 1), tz: timezone });
  return slotOf(interval.prev().toDate());
}

/** Checks a cron expression and time zone before anything is scheduled. */
export function assertSchedule(name: string, expression: string, timezone: string): void {
  if (!cron.validate(expression)) throw new ConfigError(`${name}: '${expression}' is not a valid cron expression`);
  try {
    new Intl.DateTimeFormat("en", { timeZone: timezone });
  } catch {
    throw new ConfigError(`${name}: '${timezone}' is not an IANA time zone`);
  }
}

/** The first scheduled time after `slot`: how long a fire may wait for its turn before the next one takes over. */
export function nextSlotAfter(expression: string, timezone: string, slot: string): Date {
  const interval = CronExpressionParser.parse(expression, { currentDate: new Date(Date.parse(slot) + 1), tz: timezone });
  return interval.next().toDate();
}
