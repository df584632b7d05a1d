import type { ApiRequestEntry } from "../../../db/queries/api-requests.ts";
import { params, projectList, type ListPage, type PageContext } from "../context.ts";
import { Choice, Empty, Pager, Table, Time, ProjectChoice } from "../ui.tsx";

const APIS = ["rest", "upload", "project", "webhook"] as const;
const STATUS_CLASSES = ["5xx", "4xx", "2xx", "none"] as const;
const isError = (r: ApiRequestEntry) => r.status === null || r.status >= 400 || r.error !== null;

interface RefusedTotals {
  totals: { reason: string; count: number; sources: number }[];
}

/** Refused webhook deliveries are counted, not listed: one line of totals for the last 24 hours. */
function RefusedSummary(props: { totals: RefusedTotals["totals"] }) {
  if (props.totals.length === 0) return null;
  return (
    <p class="refused-webhooks">
      Refused webhook deliveries in the last 24 hours (counted, not listed):{" "}
      {props.totals.map((t, i) => (
        <>
          {i > 0 ? ", " : ""}
          <strong>{t.count}</strong> {t.reason.replaceAll("_", " ")} from {t.sources} {t.sources === 1 ? "source" : "sources"}
        </>
      ))}
      . <a href="/v1/api-logs/refused-webhooks">Counts per source and minute</a>
    </p>
  );
}

/** Uploadcare requests ucledger made and webhook deliveries it received; failures first. */
export async function apiLogPage(ctx: PageContext) {
  const page = params(ctx.url);
  const order = page["order"] === "recent" ? "recent" : "errors_first";
  const [projects, requests, refused] = await Promise.all([
    projectList(ctx),
    ctx.api.get<ListPage<ApiRequestEntry>>("/v1/api-logs", { project: page["project"], api: page["api"], status: page["status"], order, cursor: page["cursor"], limit: 100 }),
    ctx.api.get<RefusedTotals>("/v1/api-logs/refused-webhooks", { limit: 1 }),
  ]);
  return (
    <>
      <RefusedSummary totals={refused.totals} />
      <form class="filters" method="get" action="/dashboard/api-log" role="search" aria-label="Filter requests">
        <ProjectChoice projects={projects} selected={page["project"]} />
        <Choice name="api" label="API" values={APIS} selected={page["api"]} />
        <Choice name="status" label="Status" values={STATUS_CLASSES} selected={page["status"]} />
        <label>
          Order
          <select name="order">
            <option value="errors_first" selected={order === "errors_first"}>
              errors first
            </option>
            <option value="recent" selected={order === "recent"}>
              newest first
            </option>
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      {requests.data.length === 0 ? (
        <Empty title="No request recorded.">
          Every call ucledger makes to Uploadcare, and every webhook delivery, is recorded here: run <code>ucledger sync files</code> or install webhooks with{" "}
          <code>ucledger webhooks install</code>.
        </Empty>
      ) : (
        <Table caption="Uploadcare requests and webhook deliveries" head={["When", "API", "Request", "Status", "Attempt", "ms", "Error", "Project"]}>
          {requests.data.map((r) => (
            <tr class={isError(r) ? "error" : undefined}>
              <td>
                <Time iso={r.requestedAt} />
              </td>
              <td>{r.api}</td>
              <td class="name">
                <code>
                  {r.method} {r.path}
                  {r.query ? `?${r.query}` : ""}
                </code>
              </td>
              <td class="num">{r.status ?? "no answer"}</td>
              <td class="num">{r.attempt}</td>
              <td class="num">{r.durationMs}</td>
              <td>{r.error ?? ""}</td>
              <td>{r.projectKey}</td>
            </tr>
          ))}
        </Table>
      )}
      <Pager path="/dashboard/api-log" query={page} nextCursor={requests.nextCursor} total={requests.total} totalExact={requests.totalExact} totalAtLeast={requests.totalAtLeast} shown={requests.data.length} />
    </>
  );
}
