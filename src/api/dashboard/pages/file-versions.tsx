import type { FileVersion } from "../../../db/queries/file-versions.ts";
import { Bytes, Table, Time, fileHref } from "../ui.tsx";

type Version = Omit<FileVersion, "projectKey">;
export interface FileVersions {
  copies: Version[];
  copyOf: Version | null;
}

/** The file page's versions: the copies version plans made of it, or the original it is a copy of. */
export function VersionsSection({ projectKey, versions }: { projectKey: string; versions: FileVersions | undefined }) {
  if (!versions || (versions.copies.length === 0 && versions.copyOf === null)) return <p class="muted">No versions.</p>;
  const copyOf = versions.copyOf;
  return (
    <>
      {copyOf ? (
        <p>
          A copy of <a href={fileHref(projectKey, copyOf.originalUuid)}>{copyOf.originalUuid}</a> with <code>{copyOf.operations || "no operations"}</code>,
          made by plan <a href={`/dashboard/plans/${copyOf.planId}`}>{copyOf.planId.slice(0, 8)}</a>.
        </p>
      ) : null}
      {versions.copies.length > 0 ? (
        <Table caption="Copies of this file" head={["Copy", "Operations", "Size before", "Size after", "Plan", "Made"]}>
          {versions.copies.map((v) => (
            <tr>
              <td>
                <a href={fileHref(projectKey, v.copyUuid)}>{v.copyUuid}</a>
              </td>
              <td>
                <code>{v.operations || "—"}</code>
              </td>
              <td>
                <Bytes value={v.originalSize} />
              </td>
              <td>
                <Bytes value={v.copySize} />
              </td>
              <td>
                <a href={`/dashboard/plans/${v.planId}`}>{v.planId.slice(0, 8)}</a>
              </td>
              <td>
                <Time iso={v.createdAt} />
              </td>
            </tr>
          ))}
        </Table>
      ) : null}
    </>
  );
}
