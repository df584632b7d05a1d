import type { ReportMeta } from "../../../db/queries/reports.ts";
import { localDate } from "../../../reports/weekly/period.ts";
import { params, type ListPage, type PageContext } from "../context.ts";
import { Empty, Pager, Table, Time } from "../ui.tsx";

export async function reportsPage(ctx: PageContext) {
  const page = params(ctx.url);
  const reports = await ctx.api.get<ListPage<ReportMeta>>("/v1/reports", { project: page["project"], cursor: page["cursor"], limit: 50 });
  if (reports.data.length === 0 && !page["cursor"]) {
    return (
      <Empty title="No report has been written yet.">
        Weekly reports are written every Monday for the week before; to write one now, run <code>ucledger report weekly</code>.
      </Empty>
    );
  }
  return (
    <>
      <Table caption="Reports, newest first" head={["Week", "Project", "Period", "Written", "Download"]}>
        {reports.data.map((r) => (
          <tr>
            <td>
              <a href={`/dashboard/reports/${r.id}`}>{r.label}</a>
            </td>
            <td>{r.projectKey}</td>
            <td>
              {localDate(new Date(r.periodStart), r.timezone)} – {localDate(new Date(Date.parse(r.periodEnd) - 1), r.timezone)}{" "}
              <span class="muted">({r.timezone})</span>
            </td>
            <td>
              <Time iso={r.createdAt} />
            </td>
            <td>
              <a href={`/v1/reports/${r.id}?format=csv`}>CSV</a> · <a href={`/v1/reports/${r.id}?format=text`}>text</a>
            </td>
          </tr>
        ))}
      </Table>
      <Pager path="/dashboard/reports" query={page} nextCursor={reports.nextCursor} total={reports.total} totalExact={reports.totalExact} totalAtLeast={reports.totalAtLeast} shown={reports.data.length} />
    </>
  );
}

/** The report as it was mailed: the stored HTML, in a frame that may run nothing. */
export async function reportPage(ctx: PageContext, id: string) {
  const report = await ctx.api.get<ReportMeta>(`/v1/reports/${id}`);
  return {
    title: `Weekly report ${report.label} · ${report.projectKey}`,
    body: (
      <>
        <p class="actions">
          <a href="/dashboard/reports">← All reports</a>
          <a href={`/v1/reports/${id}?format=html`} target="_blank" rel="noopener">
            Open on its own
          </a>
          <a href={`/v1/reports/${id}?format=csv`}>CSV</a>
        </p>
        <iframe class="report" title={`Weekly report ${report.label}`} src={`/v1/reports/${id}?format=html`} sandbox=""></iframe>
      </>
    ),
  };
}
