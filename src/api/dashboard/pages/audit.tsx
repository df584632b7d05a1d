import type { AuditEvent } from "../../../db/queries/events.ts";
import { EVENT_KINDS, EVENT_SOURCES } from "../../../db/schema/index.ts";
import type { Query } from "../api-client.ts";
import { dayStart, params, projectList, type ListPage, type PageContext } from "../context.ts";
import { Choice, Empty, Notice, Pager, Table, Time, fileHref, ProjectChoice } from "../ui.tsx";

interface ChainReport {
  projectKey: string;
  ok: boolean;
  events: number;
  broken: { seq: number; reason: string } | null;
}


function ChainStatus({ reports }: { reports: ChainReport[] | null }) {
  if (reports === null) {
    return (
      <form method="get" action="/dashboard/audit" class="actions">
        <input type="hidden" name="verify" value="1" />
        <span>Each project's events form a SHA-256 hash chain; verifying reads every event (seconds per million).</span>
        <button type="submit">Verify the chains now</button>
      </form>
    );
  }
  return (
    <>
      {reports.map((r) =>
        r.ok ? (
          <Notice kind="ok">
            {r.projectKey}: the chain of {r.events.toLocaleString("en-US")} events holds.
          </Notice>
        ) : (
          <Notice kind="error">
            {r.projectKey}: the chain is broken at event #{r.broken?.seq}: {r.broken?.reason}. Run <code>ucledger audit verify --project {r.projectKey}</code> for details.
          </Notice>
        ),
      )}
    </>
  );
}

export async function auditPage(ctx: PageContext) {
  const page = params(ctx.url);
  const query: Query = {
    project: page["project"],
    kind: page["kind"],
    source: page["source"],
    actor: page["actor"],
    from: dayStart(page["from"]),
    to: dayStart(page["to"]),
    cursor: page["cursor"],
  };
  const [projects, events, chain] = await Promise.all([
    projectList(ctx),
    ctx.api.get<ListPage<AuditEvent>>("/v1/events", { ...query, limit: 100 }),
    page["verify"] ? ctx.api.get<{ projects: ChainReport[] }>("/v1/audit/verify", { project: page["project"] }) : Promise.resolve(null),
  ]);
  return (
    <>
      <h2>Hash chain</h2>
      <ChainStatus reports={chain?.projects ?? null} />
      <h2>Events</h2>
      <form class="filters" method="get" action="/dashboard/audit" role="search" aria-label="Filter events">
        <ProjectChoice projects={projects} selected={page["project"]} />
        <Choice name="kind" label="Kind" values={EVENT_KINDS} selected={page["kind"]} />
        <Choice name="source" label="Source" values={EVENT_SOURCES} selected={page["source"]} />
        <label>
          Actor
          <input name="actor" value={page["actor"] ?? ""} placeholder="ucledger:sync" size={16} />
        </label>
        <label>
          Seen from (UTC)
          <input type="date" name="from" value={page["from"] ?? ""} />
        </label>
        <label>
          Seen before (UTC)
          <input type="date" name="to" value={page["to"] ?? ""} />
        </label>
        <button type="submit">Filter</button>
        <a href="/dashboard/audit">Clear</a>
      </form>
      {events.data.length === 0 ? (
        <Empty title="No event matches.">
          Events appear as soon as a sync, a webhook or an approved plan changes a file: run <code>ucledger sync files</code>.
        </Empty>
      ) : (
        <Table caption="Audit events, newest first" head={["Seen", "Kind", "File", "Actor", "Source", "Project", "#"]}>
          {events.data.map((e) => (
            <tr>
              <td>
                <Time iso={e.observedAt} />
              </td>
              <td>{e.kind.replaceAll("_", " ")}</td>
              <td class="name">{e.fileUuid ? <a href={fileHref(e.projectKey, e.fileUuid)}>{e.fileUuid}</a> : e.planId ? <a href={`/dashboard/plans/${e.planId}`}>plan {e.planId.slice(0, 8)}</a> : "—"}</td>
              <td>{e.actor}</td>
              <td>{e.source}</td>
              <td>{e.projectKey}</td>
              <td class="num">{e.seq}</td>
            </tr>
          ))}
        </Table>
      )}
      <Pager path="/dashboard/audit" query={page} nextCursor={events.nextCursor} total={events.total} totalExact={events.totalExact} totalAtLeast={events.totalAtLeast} shown={events.data.length} />
    </>
  );
}
