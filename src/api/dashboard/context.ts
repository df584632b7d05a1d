import type { Db } from "../../db/client.ts";
import type { DecisionServices } from "../../decisions/services.ts";
import type { ProjectEntry } from "../../db/queries/project-list.ts";
import type { Caller } from "../auth.ts";
import type { ApiClient } from "./api-client.ts";
import type { WeekOverviews } from "./charts.ts";

/** What a page handler gets: who asks, how to reach the API as them, and the request. */
export interface PageContext {
  caller: Caller;
  csrf: string;
  api: ApiClient;
  url: URL;
  /** The zone of the deployment's reports (weeks start on its Mondays). */
  timezone: string;
  db: Db;
  now: () => Date;
  /** The overview's week figures and charts, kept for a minute. */
  weekOverview: WeekOverviews;
  /** The deployment's decision limits, protection and approval rules, for previews that match the API's dry run. */
  decisions: Pick<DecisionServices, "settings" | "protection" | "approvals">;
}

export const canOperate = (caller: Caller) => caller.role === "operator" || caller.role === "admin";

/** Query parameters of the page, without empty ones. */
export function params(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of url.searchParams) if (value !== "") out[key] = value;
  return out;
}

/** A date input's YYYY-MM-DD as the start of that UTC day; anything else goes to the API as typed (it names what is wrong). */
export const dayStart = (value: string | undefined) => (value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);

export interface ListPage<T> {
  data: T[];
  nextCursor: string | null;
  total: number | null;
  totalExact: boolean;
  totalAtLeast?: number;
}

/** Every project the ledger knows (a handful: one page holds them). */
export async function projectList(ctx: PageContext): Promise<ProjectEntry[]> {
  return (await ctx.api.get<ListPage<ProjectEntry>>("/v1/projects", { limit: 1000 })).data;
}
