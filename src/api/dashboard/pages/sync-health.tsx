import type { SyncRunEntry } from "../../../db/queries/sync-runs.ts";
import { formatCount } from "../../../reports/weekly/format.ts";
import { QUARANTINE_PATH } from "../../quarantine.ts";
import type { ListPage, PageContext } from "../context.ts";
import { Empty, Notice, Status, Table, Time } from "../ui.tsx";

/** The overview's sync health: the latest runs, and the upstream records the sync could not store as sent. */

export interface SyncHealthData {
  runs: SyncRunEntry[];
  setAside: number;
  escaped: number;
}

export async function loadSyncHealth(ctx: PageContext, projectKey: string): Promise<SyncHealthData> {
  // Exact counts: the quarantine holds one row per distinct bad record, a handful, not millions.
  const quarantined = (disposition: string) =>
    ctx.api.get<ListPage<unknown>>(QUARANTINE_PATH, { project: projectKey, disposition, limit: 1, count: "exact" }).then((p) => p.total ?? 0);
  const [runs, setAside, escaped] = await Promise.all([
    ctx.api.get<ListPage<SyncRunEntry>>("/v1/sync/runs", { project: projectKey, limit: 8, count: "none" }),
    quarantined("set_aside"),
    quarantined("stored_escaped"),
  ]);
  return { runs: runs.data, setAside, escaped };
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
  if (data.runs.length === 0) {
    return (
      <>
        <Empty title="No sync has run yet.">
          Run <code>ucledger sync files</code>, or leave <code>npm start</code> running: its scheduler syncs every few minutes.
        </Empty>
        {data.setAside + data.escaped > 0 ? quarantine : null}
      </>
    );
  }
  return (
    <>
      {quarantine}
      <Table caption="Latest sync runs" head={["Stream", "Lane", "Started", "Finished", "Status", "Seen", "New", "Changed", "Error"]}>
        {data.runs.map((r) => (
          <tr class={r.status === "failed" || r.status === "abandoned" ? "error" : undefined}>
            <td>{r.stream}</td>
            <td>{r.lane}</td>
            <td>
              <Time iso={r.startedAt} />
            </td>
            <td>
              <Time iso={r.finishedAt} />
            </td>
            <td>
              <Status value={r.status} />
            </td>
            <td class="num">{formatCount(r.seen)}</td>
            <td class="num">{formatCount(r.inserted)}</td>
            <td class="num">{formatCount(r.changed)}</td>
            <td>{r.error ?? ""}</td>
          </tr>
        ))}
      </Table>
    </>
  );
}
