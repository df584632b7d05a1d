import { syncLaneSummary, type LaneSummary } from "../../../db/queries/sync-summary.ts";
import { formatCount } from "../../../reports/weekly/format.ts";
import { QUARANTINE_PATH } from "../../quarantine.ts";
import type { ListPage, PageContext } from "../context.ts";
import { Empty, Notice, Status, Table, Time } from "../ui.tsx";

/**
 * The overview's sync health: per stream and lane, the last success, how far
 * behind it is and the failures of the last week (not the minute-by-minute
 * list of webhook runs that found nothing), and the upstream records the sync
 * could not store as sent. Every run stays listed at GET /v1/sync/runs.
 */

/** Failures are counted over this many days. */
export const HEALTH_WINDOW_DAYS = 7;

export interface SyncHealthData {
  lanes: LaneSummary[];
  setAside: number;
  escaped: number;
}

export async function loadSyncHealth(ctx: PageContext, projectKey: string): Promise<SyncHealthData> {
  // Exact counts: the quarantine holds one row per distinct bad record, a handful, not millions.
  const quarantined = (disposition: string) =>
    ctx.api.get<ListPage<unknown>>(QUARANTINE_PATH, { project: projectKey, disposition, limit: 1, count: "exact" }).then((p) => p.total ?? 0);
  const now = ctx.now();
  const [lanes, setAside, escaped] = await Promise.all([
    syncLaneSummary(ctx.db, { projectKey, since: new Date(now.getTime() - HEALTH_WINDOW_DAYS * 86_400_000), now }),
    quarantined("set_aside"),
    quarantined("stored_escaped"),
  ]);
  return { lanes, setAside, escaped };
}

/** `4 min`, `3 h 5 min`, `2 d 4 h`: how long ago, in words a glance reads. */
export function formatLag(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

function Quarantine({ projectKey, setAside, escaped }: { projectKey: string; setAside: number; escaped: number }) {
  if (setAside + escaped === 0) {
    return <p class="muted">No upstream record had to be set aside or stored with substitutes.</p>;
  }
  const list = `${QUARANTINE_PATH}?project=${encodeURIComponent(projectKey)}`;
  return (
    <Notice kind={setAside > 0 ? "error" : "info"}>
      <span title="Records Uploadcare sent that PostgreSQL cannot hold as sent (a NUL, an unpaired surrogate) or that fail the file schema">
        Quarantined upstream records: <strong>{formatCount(setAside)}</strong> set aside (no file row written), <strong>{formatCount(escaped)}</strong>{" "}
        stored with substitutes.
      </span>{" "}
      <a href={list}>List them</a> (JSON) · <a href={`${list}&format=csv`}>CSV</a>
    </Notice>
  );
}

export function SyncHealth({ projectKey, data }: { projectKey: string; data: SyncHealthData }) {
  const quarantine = <Quarantine projectKey={projectKey} setAside={data.setAside} escaped={data.escaped} />;
  if (data.lanes.length === 0) {
    return (
      <>
        <Empty title="No sync has run yet.">
          Run <code>ucledger sync files</code>, or leave <code>npm start</code> running: its scheduler syncs every few minutes.
        </Empty>
        {data.setAside + data.escaped > 0 ? quarantine : null}
      </>
    );
  }
  const runs = `/v1/sync/runs?project=${encodeURIComponent(projectKey)}`;
  return (
    <>
      {quarantine}
      <Table caption="Sync health by lane" head={["Stream", "Lane", "Last success", "Behind by", "Last run", `Failures (${HEALTH_WINDOW_DAYS} days)`, "Last error"]}>
        {data.lanes.map((l) => (
          <tr class={l.failures > 0 || (l.lastStatus !== null && l.lastStatus !== "ok" && l.lastStatus !== "running" && l.lastStatus !== "skipped") ? "error" : undefined}>
            <td>{l.stream}</td>
            <td>{l.lane}</td>
            <td>{l.lastSuccessAt ? <Time iso={l.lastSuccessAt} /> : <span class="muted">never</span>}</td>
            <td class="num">{l.lagSeconds === null ? "—" : formatLag(l.lagSeconds)}</td>
            <td>
              {l.lastStatus ? <Status value={l.lastStatus} /> : null} <Time iso={l.lastRunAt} />
            </td>
            <td class="num">
              {formatCount(l.failures)} <span class="muted">of {formatCount(l.runs)} runs</span>
            </td>
            <td>{l.lastError ?? ""}</td>
          </tr>
        ))}
      </Table>
      <p class="muted">
        Every run: <a href={runs}>GET /v1/sync/runs</a> (JSON) · <a href={`${runs}&format=csv`}>CSV</a>
      </p>
    </>
  );
}
