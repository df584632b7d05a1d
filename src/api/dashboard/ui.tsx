import type { Child } from "hono/jsx";
import type { ProjectEntry } from "../../db/queries/project-list.ts";
import { formatCount } from "../../reports/weekly/format.ts";
import { formatBytes } from "../../units.ts";
import { queryString, type Query } from "./api-client.ts";
import { CSRF_FIELD } from "./session.ts";

/**
 * Small pieces every page uses. hono/jsx escapes every string it renders, in
 * text and in attributes, so file names and metadata (user input) always show
 * as text; nothing here uses raw HTML except the chart images, which are
 * base64 data URIs.
 */

/** An instant: UTC in the page (and on hover); the page script rewrites the text in the viewer's zone. */
export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">—</span>;
  const utc = `${iso.slice(0, 19).replace("T", " ")} UTC`;
  return (
    <time datetime={iso} title={utc}>
      {utc}
    </time>
  );
}

export const Bytes = ({ value }: { value: number }) => <span title={`${formatCount(value)} bytes`}>{formatBytes(value)}</span>;
export const Count = ({ value }: { value: number }) => <>{formatCount(value)}</>;

/** What to do when a list is empty: says why, and the next step. */
export function Empty({ title, children }: { title: string; children?: Child }) {
  return (
    <div class="empty" role="status">
      <p>
        <strong>{title}</strong>
      </p>
      {children ? <p>{children}</p> : null}
    </div>
  );
}

export function Notice({ kind, children }: { kind: "error" | "ok" | "info"; children: Child }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}

export const CsrfField = ({ token }: { token: string }) => <input type="hidden" name={CSRF_FIELD} value={token} />;

/** "Next page" for keyset paging: the same filters with the API's cursor. */
/** "of 2,000", "of about 1.2 million" (from real statistics only), or "of more than 100,000" (see countHonestly). */
export function totalText(total: number | null, totalExact: boolean, totalAtLeast?: number): string {
  if (total !== null) return ` of ${totalExact ? "" : "about "}${formatCount(total)}`;
  return totalAtLeast !== undefined ? ` of more than ${formatCount(totalAtLeast)}` : "";
}

export function Pager({
  path,
  query,
  nextCursor,
  total,
  totalExact,
  totalAtLeast,
  shown,
}: {
  path: string;
  query: Query;
  nextCursor: string | null;
  total: number | null;
  totalExact: boolean;
  totalAtLeast?: number | undefined;
  shown: number;
}) {
  return (
    <nav class="pager" aria-label="Pages">
      <span data-total>
        {shown === 0 ? "nothing" : `${formatCount(shown)} shown`}
        {totalText(total, totalExact, totalAtLeast)}
      </span>
      {query["cursor"] ? <a href={`${path}${queryString({ ...query, cursor: undefined })}`}>First page</a> : null}
      {nextCursor ? <a href={`${path}${queryString({ ...query, cursor: nextCursor })}`}>Next page →</a> : null}
    </nav>
  );
}

/** Tables scroll sideways on a phone instead of squeezing the columns. */
export function Table({ caption, head, children }: { caption: string; head: string[]; children: Child }) {
  return (
    <div class="table-wrap" tabindex={0} role="region" aria-label={caption}>
      <table>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A project-wide link to a file's page. */
export const fileHref = (projectKey: string, uuid: string) => `/dashboard/files/${encodeURIComponent(projectKey)}/${uuid}`;

export function Status({ value }: { value: string }) {
  return <span class={`badge badge-${value.replace(/[^a-z_]/g, "")}`}>{value.replaceAll("_", " ")}</span>;
}

/** A <select> whose options are the values, with "any" first. */
export function Choice({ name, label, values, selected }: { name: string; label: string; values: readonly string[]; selected: string | undefined }) {
  return (
    <label>
      {label}
      <select name={name}>
        <option value="">any</option>
        {values.map((v) => (
          <option value={v} selected={v === selected}>
            {v}
          </option>
        ))}
      </select>
    </label>
  );
}

/** A project filter, shown only when there is more than one project to choose from. */
export function ProjectChoice({ projects, selected }: { projects: ProjectEntry[]; selected: string | undefined }) {
  return projects.length > 1 ? <Choice name="project" label="Project" values={projects.map((p) => p.projectKey)} selected={selected} /> : null;
}
