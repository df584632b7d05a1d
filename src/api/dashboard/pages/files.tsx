import type { FileSummary } from "../../../db/queries/files.ts";
import type { ProjectEntry } from "../../../db/queries/project-list.ts";
import { queryString, type Query } from "../api-client.ts";
import { dayStart, params, projectList, type ListPage, type PageContext } from "../context.ts";
import { Bytes, Choice, Empty, Pager, Status, Table, Time, fileHref, ProjectChoice } from "../ui.tsx";

/**
 * The files list: a form over the filters of GET /v1/files. The page's own
 * query holds the form's values; `apiQuery` turns them into the API's
 * parameters, which the CSV link reuses, so the download is exactly the list.
 */

const STATES = ["stored", "unstored", "removed"] as const;
const PASSED = ["project", "mime", "filename", "sizeMin", "sizeMax", "sort", "order", "missing", "referenced", "unreferencedForDays", "infected", "cursor"] as const;


export function apiQuery(page: Record<string, string>): Query {
  const query: Query = {};
  for (const key of PASSED) query[key] = page[key];
  const state = page["state"];
  if (state === "stored") Object.assign(query, { stored: "true", removed: "false" });
  if (state === "unstored") Object.assign(query, { stored: "false", removed: "false" });
  if (state === "removed") query["removed"] = "true";
  query["uploadedFrom"] = dayStart(page["from"]);
  query["uploadedTo"] = dayStart(page["to"]);
  if (page["metadata"]) query["metadata"] = page["metadata"];
  if (page["appdata"]) query["appdata"] = page["appdata"];
  return query;
}

/** The ClamAV add-on's verdict in a file's appdata (docs/api.md: `infected`); the filter and the delete-infected template read the same path. */
export function isInfected(appdata: Record<string, unknown> | null | undefined): boolean {
  const scan = appdata?.["uc_clamav_virus_scan"] as { data?: { infected?: unknown } } | undefined;
  return scan?.data?.infected === true;
}

export const InfectedBadge = ({ name }: { name?: string | undefined }) => (
  <span class="badge badge-error" title={name ? `ClamAV found ${name}` : "The ClamAV virus scan found this file infected"}>
    infected
  </span>
);

export const stateOf = (f: Pick<FileSummary, "datetimeRemoved" | "datetimeStored">) => (f.datetimeRemoved ? "removed" : f.datetimeStored ? "stored" : "unstored");

function Filters({ page, projects }: { page: Record<string, string>; projects: ProjectEntry[] }) {
  const field = (name: string) => page[name] ?? "";
  return (
    <form class="filters" method="get" action="/dashboard/files" role="search" aria-label="Filter files">
      <ProjectChoice projects={projects} selected={page["project"]} />
      <Choice name="state" label="State" values={STATES} selected={page["state"]} />
      <label>
        File name contains
        <input name="filename" value={field("filename")} size={16} />
      </label>
      <label>
        MIME type
        <input name="mime" value={field("mime")} placeholder="image/* or image/png" size={14} />
      </label>
      <label>
        Metadata key=value
        <input name="metadata" value={field("metadata")} placeholder="subsystem=avatars" size={16} />
      </label>
      <label>
        Appdata key
        <input name="appdata" value={field("appdata")} placeholder="uc_clamav_virus_scan" size={16} />
      </label>
      <label>
        Uploaded from (UTC day)
        <input type="date" name="from" value={field("from")} />
      </label>
      <label>
        Uploaded before (UTC day)
        <input type="date" name="to" value={field("to")} />
      </label>
      <label>
        Min bytes
        <input type="number" min={0} name="sizeMin" value={field("sizeMin")} size={8} />
      </label>
      <label>
        Max bytes
        <input type="number" min={0} name="sizeMax" value={field("sizeMax")} size={8} />
      </label>
      <Choice name="missing" label="Missing upstream" values={["true", "false"]} selected={page["missing"]} />
      <Choice name="infected" label="Virus scan found infected" values={["true", "false"]} selected={page["infected"]} />
      <Choice name="referenced" label="Referenced by the app" values={["true", "false"]} selected={page["referenced"]} />
      <label>
        Unreferenced for at least (days)
        <input type="number" min={0} name="unreferencedForDays" value={field("unreferencedForDays")} size={5} />
      </label>
      <Choice name="sort" label="Sort by" values={["uploaded", "size"]} selected={page["sort"]} />
      <Choice name="order" label="Order" values={["desc", "asc"]} selected={page["order"]} />
      <button type="submit">Filter</button>
      <a href="/dashboard/files">Clear</a>
    </form>
  );
}

export async function filesPage(ctx: PageContext) {
  const page = params(ctx.url);
  const query = apiQuery(page);
  const [projects, files] = await Promise.all([
    projectList(ctx),
    ctx.api.get<ListPage<FileSummary>>("/v1/files", { ...query, limit: 50 }),
  ]);
  const filtered = Object.keys(page).some((k) => k !== "cursor");
  const csv = `/v1/files${queryString({ ...query, cursor: undefined, format: "csv" })}`;
  return (
    <>
      <Filters page={page} projects={projects} />
      <div class="actions">
        <a class="button secondary" href={csv} download="files.csv">
          Download CSV of this filter
        </a>
        {filtered ? (
          <a class="button secondary" href={`/dashboard/tag${queryString({ ...query, cursor: undefined })}`}>
            Tag these files…
          </a>
        ) : null}
      </div>
      {files.data.length === 0 ? (
        filtered ? (
          <Empty title="No file matches these filters.">Widen them, or clear them to see every file.</Empty>
        ) : (
          <Empty title="The ledger holds no files yet.">
            Run <code>ucledger sync files</code> to read them from Uploadcare.
          </Empty>
        )
      ) : (
        <Table caption="Files" head={["File name", "State", "Size", "MIME type", "Uploaded", ...(projects.length > 1 ? ["Project"] : [])]}>
          {files.data.map((f) => (
            <tr>
              <td class="name">
                <a href={fileHref(f.projectKey, f.uuid)}>{f.originalFilename || f.uuid}</a>
                {f.missingSince ? <span class="badge badge-error">missing</span> : null}
                {isInfected(f.appdata) ? <InfectedBadge /> : null}
                {f.referenced === false ? <span class="badge badge-unstored">unreferenced</span> : null}
              </td>
              <td>
                <Status value={stateOf(f)} />
              </td>
              <td class="num">
                <Bytes value={f.size} />
              </td>
              <td>{f.mimeType}</td>
              <td>
                <Time iso={f.datetimeUploaded} />
              </td>
              {projects.length > 1 ? <td>{f.projectKey}</td> : null}
            </tr>
          ))}
        </Table>
      )}
      <Pager path="/dashboard/files" query={page} nextCursor={files.nextCursor} total={files.total} totalExact={files.totalExact} totalAtLeast={files.totalAtLeast} shown={files.data.length} />
    </>
  );
}
