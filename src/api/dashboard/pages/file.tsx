import type { AuditEvent } from "../../../db/queries/events.ts";
import type { FileDetail } from "../../../db/queries/files.ts";
import type { ListPage, PageContext } from "../context.ts";
import { Bytes, Empty, Status, Table, Time } from "../ui.tsx";
import { InfectedBadge, isInfected, stateOf } from "./files.tsx";
import { VersionsSection, type FileVersions } from "./file-versions.tsx";
import { FileActions } from "./file-action.tsx";

/** What the scan named, when it did. */
const infectedWith = (appdata: Record<string, unknown> | null) => {
  const name = (appdata?.["uc_clamav_virus_scan"] as { data?: { infected_with?: unknown } } | undefined)?.data?.infected_with;
  return typeof name === "string" ? name : undefined;
};

/** Uploadcare's CDN serves every file at this address (custom CDN names aside). */
const cdnUrl = (uuid: string) => `https://ucarecdn.com/${uuid}/`;

/** What changed between two snapshots of a file, as `field: before → after` lines. */
function changes(event: AuditEvent): string[] {
  const before = event.before ?? {};
  const after = event.after ?? {};
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  const show = (v: unknown) => (v === undefined ? "—" : JSON.stringify(v));
  return keys.filter((k) => show(before[k]) !== show(after[k])).map((k) => `${k}: ${show(before[k])} → ${show(after[k])}`);
}

function Timeline({ events }: { events: AuditEvent[] }) {
  if (events.length === 0) return <Empty title="No events recorded for this file." />;
  return (
    <ol class="timeline" aria-label="Audit timeline, oldest first">
      {events.map((e) => {
        const lines = e.kind === "uploaded" ? [] : changes(e);
        return (
          <li>
            <div>
              <strong>{e.kind.replaceAll("_", " ")}</strong> <span class="muted">by</span> {e.actor} <span class="muted">via</span> {e.source}
              {e.planId ? (
                <>
                  {" "}
                  <span class="muted">for</span> <a href={`/dashboard/plans/${e.planId}`}>plan {e.planId.slice(0, 8)}</a>
                </>
              ) : null}
            </div>
            <div class="muted">
              seen <Time iso={e.observedAt} />
              {e.occurredAt ? (
                <>
                  , happened <Time iso={e.occurredAt} />
                </>
              ) : null}{" "}
              · #{e.seq}
            </div>
            {lines.length ? (
              <ul>
                {lines.slice(0, 20).map((l) => (
                  <li>
                    <code>{l}</code>
                  </li>
                ))}
              </ul>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

interface FileReferences {
  referenced: boolean | null;
  unreferencedSince: string | null;
  lastReferencedAt: string | null;
  heldByStaleSource: boolean;
  references: { source: string; ref: string; value: string; addedAt: string; sourceStale: boolean }[];
}

/** Which reference sources point at the file (docs/references.md). */
function References({ refs }: { refs: FileReferences }) {
  if (refs.referenced === null) {
    return (
      <p class="muted">
        This project has no reference source, so ucledger cannot tell whether your application still uses the file: see <code>docs/references.md</code>.
      </p>
    );
  }
  return (
    <>
      <p>
        {refs.referenced ? (
          <>
            Referenced{refs.heldByStaleSource ? " (held by a source that has not reported in time, so it still counts)" : ""}.
          </>
        ) : (
          <>
            Nothing references this file since <Time iso={refs.unreferencedSince} />.
          </>
        )}{" "}
        {refs.lastReferencedAt ? (
          <span class="muted">
            Last referenced <Time iso={refs.lastReferencedAt} />.
          </span>
        ) : null}
      </p>
      {refs.references.length > 0 ? (
        <Table caption="References" head={["Source", "Ref", "Value", "Since"]}>
          {refs.references.map((r) => (
            <tr>
              <td>
                {r.source} {r.sourceStale ? <span class="badge badge-error">stale</span> : null}
              </td>
              <td class="name">{r.ref}</td>
              <td class="name">
                <code>{r.value}</code>
              </td>
              <td>
                <Time iso={r.addedAt} />
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
    </>
  );
}

export async function filePage(ctx: PageContext, projectKey: string, uuid: string) {
  const [file, events, refs] = await Promise.all([
    ctx.api.get<FileDetail & { versions?: FileVersions }>(`/v1/files/${uuid}`, { project: projectKey }),
    ctx.api.get<ListPage<AuditEvent>>(`/v1/files/${uuid}/events`, { project: projectKey, limit: 200, count: "none" }),
    ctx.api.get<FileReferences>(`/v1/files/${uuid}/references`, { project: projectKey }),
  ]);
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  return {
    title: file.originalFilename || uuid,
    body: (
      <>
        <dl class="fields">
          <dt>UUID</dt>
          <dd>
            <code>{file.uuid}</code>
          </dd>
          <dt>Project</dt>
          <dd>{file.projectKey}</dd>
          <dt>State</dt>
          <dd>
            <Status value={stateOf(file)} />
            {isInfected(file.appdata) ? (
              <>
                {" "}
                <InfectedBadge name={infectedWith(file.appdata)} /> <a href={`/dashboard/files?project=${encodeURIComponent(file.projectKey)}&infected=true`}>all infected files</a>
              </>
            ) : null}
            {file.missingSince ? (
              <>
                {" "}
                <span class="badge badge-error">missing</span> since <Time iso={file.missingSince} />
              </>
            ) : null}
          </dd>
          <dt>Size</dt>
          <dd>
            <Bytes value={file.size} />
          </dd>
          <dt>MIME type</dt>
          <dd>{file.mimeType}</dd>
          <dt>Uploaded</dt>
          <dd>
            <Time iso={file.datetimeUploaded} />
          </dd>
          <dt>Stored</dt>
          <dd>
            <Time iso={file.datetimeStored} />
          </dd>
          <dt>Removed</dt>
          <dd>
            <Time iso={file.datetimeRemoved} />
          </dd>
          <dt>CDN</dt>
          <dd>
            <a href={cdnUrl(file.uuid)} rel="noopener noreferrer" target="_blank">
              {cdnUrl(file.uuid)}
            </a>
          </dd>
          <dt>First seen by ucledger</dt>
          <dd>
            <Time iso={file.firstSeenAt} />
          </dd>
        </dl>
        <FileActions ctx={ctx} projectKey={file.projectKey} uuid={file.uuid} state={stateOf(file)} />
        <h2>Metadata</h2>
        {Object.keys(file.metadata).length === 0 ? (
          <p class="muted">No metadata.</p>
        ) : (
          <dl class="fields">
            {Object.entries(file.metadata).map(([k, v]) => (
              <>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </>
            ))}
          </dl>
        )}
        <h2>Appdata</h2>
        {file.appdata && Object.keys(file.appdata).length > 0 ? <pre>{json(file.appdata)}</pre> : <p class="muted">No appdata.</p>}
        <h2>Versions</h2>
        <VersionsSection projectKey={file.projectKey} versions={file.versions} />
        <h2>References</h2>
        <References refs={refs} />
        <h2>Audit timeline</h2>
        <Timeline events={events.data} />
        {events.nextCursor ? <p class="muted">The first 200 events are shown; GET /v1/files/{file.uuid}/events has them all.</p> : null}
      </>
    ),
  };
}
