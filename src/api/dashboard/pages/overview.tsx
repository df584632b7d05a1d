import type { ProjectEntry } from "../../../db/queries/project-list.ts";
import type { ProjectStats, Tally } from "../../../db/queries/stats.ts";
import type { OrphansSection } from "../../../reports/weekly/orphans.ts";
import { isoWeekOf, localDate, shiftWeek, weekPeriod, weekToShow } from "../../../reports/weekly/period.ts";
import { formatCount } from "../../../reports/weekly/format.ts";
import { formatBytes } from "../../../units.ts";
import { projectList, type PageContext } from "../context.ts";
import { Bytes, Count, Empty, Notice, Status, Table, Time } from "../ui.tsx";
import { loadSyncHealth, SyncHealth } from "./sync-health.tsx";
import { CostCard, loadCosts } from "../cost-card.tsx";

/** `2026-11-23 – Sun 2026-11-29`: the week's local dates. */
function weekRange(week: string, timezone: string): string {
  const days = weekPeriod(week, timezone).days;
  return `${days[0]!.date} – ${days[days.length - 1]!.date}`;
}

/**
 * Project and week, always shown: the week is the last complete one unless
 * `?week=` asks for another (the running week is marked partial).
 */
function WeekPicker({ projects, selected, week, current }: { projects: ProjectEntry[]; selected: string; week: string; current: string }) {
  const href = (w: string) => `/dashboard?${new URLSearchParams({ project: selected, week: w }).toString()}`;
  const next = shiftWeek(week, 1);
  return (
    <form class="filters" method="get" action="/dashboard" aria-label="Project and week">
      {projects.length > 1 ? (
        <label>
          Project
          <select name="project">
            {projects.map((p) => (
              <option value={p.projectKey} selected={p.projectKey === selected}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
      ) : (
        <input type="hidden" name="project" value={selected} />
      )}
      <label>
        Week
        <input name="week" value={week} pattern="\d{4}-W\d{2}" placeholder="2026-W47" size={9} aria-describedby="week-hint" />
      </label>
      <button type="submit">Show</button>
      <a href={href(shiftWeek(week, -1))}>← {shiftWeek(week, -1)}</a>
      {next <= current ? <a href={href(next)}>{next} →</a> : null}
      <span id="week-hint" class="muted">
        ISO week, such as 2026-W47
      </span>
    </form>
  );
}

function StateCards({ stats }: { stats: ProjectStats }) {
  const cards: [string, Tally, string][] = [
    ["All files", stats.files, "every file the ledger knows, removed ones included"],
    ["Stored", stats.byState.stored, "kept by Uploadcare until deleted"],
    ["Unstored", stats.byState.unstored, "removed by Uploadcare 24 hours after upload unless stored"],
    ["Removed", stats.byState.removed, "deleted, by someone or by expiry"],
    ["Missing", stats.byState.missing, "no longer listed by Uploadcare, without a removal"],
  ];
  return (
    <div class="grid">
      {cards.map(([label, tally, hint]) => (
        <div class="card" title={hint}>
          <div class="muted">{label}</div>
          <div class="figure">
            <Count value={tally.count} />
          </div>
          <Bytes value={tally.bytes} />
        </div>
      ))}
    </div>
  );
}

/** Files nothing in the application references any more (docs/references.md). */
function Orphans({ orphans, projectKey }: { orphans: OrphansSection; projectKey: string }) {
  if (!orphans.configured) {
    return (
      <Empty title="No reference source yet, so no file is known to be unused.">
        Push the UUIDs and CDN URLs your application keeps with <code>PUT /v1/references/&lt;source&gt;</code>, or configure a pull source: see{" "}
        <code>docs/references.md</code>.
      </Empty>
    );
  }
  const cards: [string, { files: number; bytes: number }][] = [
    ["Unreferenced now", { files: orphans.files, bytes: orphans.bytes }],
    ["for 30 days or more", orphans.unreferenced30Days],
    ["for 90 days or more", orphans.unreferenced90Days],
  ];
  return (
    <>
      <div class="grid">
        {cards.map(([label, tally]) => (
          <div class="card">
            <div class="muted">{label}</div>
            <div class="figure">
              <Count value={tally.files} />
            </div>
            <Bytes value={tally.bytes} />
          </div>
        ))}
      </div>
      <p>
        <a href={`/dashboard/files?project=${encodeURIComponent(projectKey)}&referenced=false&sort=size`}>List the unreferenced files, largest first</a>
        {orphans.heldByStaleSources > 0 ? ` · ${formatCount(orphans.heldByStaleSources)} files are held by sources that have not reported in time` : ""}
      </p>
      <Table caption="Reference sources" head={["Source", "Kind", "References", "Last reported", "Status"]}>
        {orphans.sources.map((s) => (
          <tr class={s.stale ? "error" : undefined}>
            <td>{s.source}</td>
            <td>{s.kind}</td>
            <td class="num">{formatCount(s.refs)}</td>
            <td>
              <Time iso={s.lastReportedAt} />
            </td>
            <td>{s.stale ? <Status value="stale" /> : <Status value="ok" />}</td>
          </tr>
        ))}
      </Table>
    </>
  );
}

export async function overviewPage(ctx: PageContext) {
  const projects = await projectList(ctx);
  if (projects.length === 0) {
    return (
      <Empty title="No project is configured.">
        Set <code>UPLOADCARE_PUBLIC_KEY</code> and <code>UPLOADCARE_SECRET_KEY</code> (or <code>UCLEDGER_CONFIG</code> for several projects) and restart ucledger.
      </Empty>
    );
  }
  const asked = ctx.url.searchParams.get("project");
  const project = projects.find((p) => p.projectKey === asked) ?? projects[0]!;
  const askedWeek = ctx.url.searchParams.get("week") ?? "";
  const now = ctx.now();
  const current = isoWeekOf(localDate(now, ctx.timezone));
  // The last complete week by default: a running week draws its future days as zero.
  const week = weekToShow(askedWeek, now, ctx.timezone);
  const partial = week === current;
  const key = project.projectKey;

  const [stats, syncHealth, overview, costs] = await Promise.all([
    ctx.api.get<{ projects: ProjectStats[] }>("/v1/stats/summary", { project: key }),
    loadSyncHealth(ctx, key),
    ctx.weekOverview({ projectKey: key, week, timezone: ctx.timezone, now }),
    loadCosts(ctx.api, key),
  ]);
  const figures = stats.projects[0]!;
  const usage = overview.report.usage;
  return {
    title: `Overview · ${project.name}`,
    body: (
    <>
      <WeekPicker projects={projects} selected={key} week={week} current={current} />
      <p class="muted">
        <strong>{project.name}</strong> <span title="Uploadcare public key">({key})</span>
        {project.isDemo ? " — the built-in demo sandbox, not a real Uploadcare project" : ""}
        {projects.length > 1 ? (
          <>
            {" "}
            · <a href="/dashboard/projects">All projects at a glance</a>
          </>
        ) : null}
      </p>
      <h2>Files by state</h2>
      {figures.files.count === 0 ? (
        <Empty title="The ledger holds no files of this project yet.">
          Run <code>ucledger sync files</code> to read them from Uploadcare.
        </Empty>
      ) : (
        <StateCards stats={figures} />
      )}
      <h2>Sync health</h2>
      <SyncHealth projectKey={key} data={syncHealth} />
      <h2 data-week={week}>
        Week {week} <span class="muted">({weekRange(week, ctx.timezone)}, {ctx.timezone}; compared with the week before)</span>
      </h2>
      {partial ? (
        <Notice kind="info">
          This week is still running: its figures stop at today and the days still to come show as zero. <a href={`/dashboard?project=${encodeURIComponent(key)}`}>Show the last complete week</a>.
        </Notice>
      ) : null}
      <div class="charts">
        {overview.charts.map((c) => (
          <img src={c.src} alt={c.title} width={640} loading="lazy" />
        ))}
      </div>
      <h2>Orphans</h2>
      <Orphans orphans={overview.report.orphans} projectKey={key} />
      <h2>Traffic, storage and operations</h2>
      {usage.synced ? (
        <Table caption="Usage this week" head={["Metric", "This week", "Previous week"]}>
          {usage.metrics.map((m) => (
            <tr>
              <td>{m.metric}</td>
              <td class="num">{m.total.current === null ? "—" : m.unit === "bytes" ? formatBytes(m.total.current) : formatCount(m.total.current)}</td>
              <td class="num">{m.total.previous === null ? "—" : m.unit === "bytes" ? formatBytes(m.total.previous) : formatCount(m.total.previous)}</td>
            </tr>
          ))}
        </Table>
      ) : (
        <Empty title="No usage figures yet.">
          Set <code>UPLOADCARE_PROJECT_API_TOKEN</code>; the usage job then fetches daily traffic, storage and operations every night.
        </Empty>
      )}
      <h2>Costs this billing period</h2>
      <CostCard costs={costs} projectKey={key} />
      <h2>MIME types</h2>
      {figures.byMimeType.length === 0 ? (
        <Empty title="No files, so no MIME types." />
      ) : (
        <Table caption="Files by MIME type" head={["MIME type", "Files", "Bytes"]}>
          {figures.byMimeType.slice(0, 15).map((m) => (
            <tr>
              <td>{m.mimeType}</td>
              <td class="num">
                <Count value={m.count} />
              </td>
              <td class="num">
                <Bytes value={m.bytes} />
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>
    ),
  };
}
