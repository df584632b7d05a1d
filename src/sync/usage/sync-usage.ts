import { sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, Queryable } from "../../db/client.ts";
import { queryRows } from "../../db/query.ts";
import { dateToTimestamp } from "../../db/timestamps.ts";
import type { Logger } from "../../logger.ts";
import { recordRun, type RunSummary } from "../runs.ts";
import type { UploadcareClient } from "../uploadcare/client.ts";
import { describeZodError } from "../uploadcare/file-object.ts";
import { planUsageWindows, type DateWindow } from "./windows.ts";

export const USAGE_METRICS = ["traffic", "storage", "operations"] as const;

/** `GET /projects/{pub_key}/usage/` (reference section 13). */
const UsageAnswer = z.object({
  units: z.record(z.string(), z.string()),
  data: z.array(
    z.looseObject({
      date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be YYYY-MM-DD"),
      traffic: z.number().nonnegative().optional(),
      storage: z.number().nonnegative().optional(),
      operations: z.number().nonnegative().optional(),
    }),
  ),
});
type UsageAnswer = z.infer<typeof UsageAnswer>;

export interface UsageDeps {
  db: Db;
  client: UploadcareClient;
  logger: Logger;
  now: () => Date;
  /** How far back a first run reaches. */
  backfillDays: number;
  hasToken: boolean;
  fence?: (tx: Queryable) => Promise<void>;
  /** Fires when the run's claim is lost: checked before each window's request. */
  signal?: AbortSignal | undefined;
}

/**
 * One run of the usage stream for one project: daily traffic, storage and
 * operations into `usage_daily`. Without a Project API token the run is
 * recorded as skipped, with one line saying why.
 */
export async function syncUsage(deps: UsageDeps): Promise<RunSummary> {
  const projectKey = deps.client.transport.projectKey;
  return recordRun(deps, { projectKey, stream: "usage", lane: "daily" }, async (run) => {
    if (!deps.hasToken) {
      return { status: "skipped", note: "no Project API token configured (UPLOADCARE_PROJECT_API_TOKEN or projectApiToken)" };
    }
    const client = deps.client.forRun(run.runId);
    const [last] = await queryRows<{ day: string | null }>(
      deps.db,
      sql`select max(date)::text as day from usage_daily where project_key = ${projectKey}`,
    );
    const windows = planUsageWindows({ today: deps.now(), lastStoredDay: last?.day ?? null, backfillDays: deps.backfillDays });
    for (const window of windows) {
      deps.signal?.throwIfAborted();
      const answer = await fetchWindow(client, projectKey, window);
      const written = await deps.db.transaction(async (tx) => {
        await deps.fence?.(tx);
        return upsertUsage(tx, projectKey, answer, deps.now());
      });
      run.counts.pages += 1;
      run.counts.seen += answer.data.length;
      run.counts.inserted += written.inserted;
      run.counts.changed += written.changed;
    }
  });
}

async function fetchWindow(client: UploadcareClient, projectKey: string, window: DateWindow): Promise<UsageAnswer> {
  const { data } = await client.transport.requestJson(
    { method: "GET", api: "project", path: `/projects/${encodeURIComponent(projectKey)}/usage/`, query: { from: window.from, to: window.to } },
    (json) => {
      const parsed = UsageAnswer.safeParse(json);
      if (!parsed.success) throw new Error(describeZodError(parsed.error));
      return parsed.data;
    },
  );
  return data;
}

/** Writes only figures that are new or changed, so a rerun changes nothing. */
async function upsertUsage(db: Queryable, projectKey: string, answer: UsageAnswer, now: Date): Promise<{ inserted: number; changed: number }> {
  const rows = answer.data.flatMap((day) =>
    USAGE_METRICS.filter((metric) => day[metric] !== undefined).map((metric) => ({
      date: day.date,
      metric,
      value: day[metric],
      unit: answer.units[metric] ?? (metric === "operations" ? "operations" : "bytes"),
    })),
  );
  if (rows.length === 0) return { inserted: 0, changed: 0 };
  const written = await queryRows<{ inserted: boolean }>(
    db,
    sql`insert into usage_daily (project_key, date, metric, value, unit, fetched_at)
        select ${projectKey}, r.date, r.metric, r.value, r.unit, ${dateToTimestamp(now)}::timestamptz
        from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(date date, metric text, value bigint, unit text)
        on conflict (project_key, date, metric) do update
          set value = excluded.value, unit = excluded.unit, fetched_at = excluded.fetched_at
          where (usage_daily.value, usage_daily.unit) is distinct from (excluded.value, excluded.unit)
        returning (xmax = 0) as inserted`,
  );
  const inserted = written.filter((r) => r.inserted).length;
  return { inserted, changed: written.length - inserted };
}
