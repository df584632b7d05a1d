import { projectRollup, rollupTotals, type RollupFigures, type RollupRow } from "../../../db/queries/project-rollup.ts";
import { isoWeekOf, localDate, shiftWeek, weekPeriod, weekToShow } from "../../../reports/weekly/period.ts";
import { formatCount, formatSigned } from "../../../reports/weekly/format.ts";
import { formatBytes } from "../../../units.ts";
import type { PageContext } from "../context.ts";
import { Empty, Notice, Table } from "../ui.tsx";
import { CostCard, loadCosts } from "../cost-card.tsx";

/**
 * Every project at a glance, one row each, with totals: the view Uploadcare's
 * own dashboard (one project at a time) cannot give. One query makes the rows
 * (db/queries/project-rollup.ts) and the totals are their sum.
 */

export const ROLLUP_HEAD = ["Project", "Files", "Stored", "Bytes stored", "Growth this week", "Uploads this week", "Traffic", "Operations", "Failed syncs", "Orphans"];

const maybe = (value: number | null, format: (v: number) => string) => (value === null ? <span class="muted" title="not known: no usage figures or no reference source">—</span> : format(value));

function Figures({ f }: { f: RollupFigures }) {
  return (
    <>
      <td class="num" data-figure="files">{formatCount(f.files)}</td>
      <td class="num" data-figure="storedFiles">{formatCount(f.storedFiles)}</td>
      <td class="num" data-figure="bytesStored" title={`${formatCount(f.bytesStored)} bytes`}>
        {formatBytes(f.bytesStored)}
      </td>
      <td class="num" data-figure="growthBytes" title={`${formatCount(f.growthBytes)} bytes`}>
        {formatSigned(f.growthBytes, formatBytes)}
      </td>
      <td class="num" data-figure="uploadsThisWeek">{formatCount(f.uploadsThisWeek)}</td>
      <td class="num" data-figure="trafficBytes">{maybe(f.trafficBytes, formatBytes)}</td>
      <td class="num" data-figure="operations">{maybe(f.operations, formatCount)}</td>
      <td class={f.failedSyncs > 0 ? "num error" : "num"} data-figure="failedSyncs">
        {formatCount(f.failedSyncs)}
      </td>
      <td class="num" data-figure="orphans">{maybe(f.orphans, formatCount)}</td>
    </>
  );
}

export async function projectsPage(ctx: PageContext) {
  const now = ctx.now();
  const current = isoWeekOf(localDate(now, ctx.timezone));
  const asked = ctx.url.searchParams.get("week") ?? "";
  const week = weekToShow(asked, now, ctx.timezone);
  const period = weekPeriod(week, ctx.timezone);
  const rows: RollupRow[] = await projectRollup(ctx.db, {
    week: { start: period.start, end: period.end, firstDate: period.days[0]!.date, lastDate: period.days[period.days.length - 1]!.date },
    now,
  });
  if (rows.length === 0) {
    return <Empty title="No project is configured.">Set UPLOADCARE_PUBLIC_KEY and UPLOADCARE_SECRET_KEY (or UCLEDGER_CONFIG) and restart ucledger.</Empty>;
  }
  const totals = rollupTotals(rows);
  const next = shiftWeek(week, 1);
  return (
    <>
      <form class="filters" method="get" action="/dashboard/projects" aria-label="Week">
        <label>
          Week
          <input name="week" value={week} pattern="\d{4}-W\d{2}" placeholder="2026-W47" size={9} />
        </label>
        <button type="submit">Show</button>
        <a href={`/dashboard/projects?week=${shiftWeek(week, -1)}`}>← {shiftWeek(week, -1)}</a>
        {next <= current ? <a href={`/dashboard/projects?week=${next}`}>{next} →</a> : null}
      </form>
      <p class="muted" data-week={week}>
        Week {week} ({period.days[0]!.date} – {period.days[period.days.length - 1]!.date}, {ctx.timezone}). Files and bytes stored are as of now; growth, uploads,
        traffic, operations and failed syncs are the week's; orphans are live files nothing references now.
      </p>
      {week === current ? <Notice kind="info">This week is still running: its figures stop at today.</Notice> : null}
      <Table caption="Every project" head={ROLLUP_HEAD}>
        {rows.map((r) => (
          <tr data-project={r.projectKey}>
            <th scope="row" class="name">
              <a href={`/dashboard?${new URLSearchParams({ project: r.projectKey, week }).toString()}`}>{r.name}</a>
              <div class="muted">
                <a href={`/dashboard/files?project=${encodeURIComponent(r.projectKey)}`}>files</a> · <span title="Uploadcare public key">{r.projectKey}</span>
                {r.isDemo ? " · demo" : ""}
              </div>
            </th>
            <Figures f={r} />
          </tr>
        ))}
        <tr class="total" data-project="">
          <th scope="row">{rows.length === 1 ? "Total" : `All ${formatCount(rows.length)} projects`}</th>
          <Figures f={totals} />
        </tr>
      </Table>
      <h2>Costs this billing period</h2>
      <CostCard costs={await loadCosts(ctx.api)} />
    </>
  );
}
