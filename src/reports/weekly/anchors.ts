import type { Anchor } from "../../db/audit/anchors.ts";
import type { WeeklyReport } from "./compute.ts";
import { localTime } from "./format.ts";
import type { Table } from "./report-tables.ts";

/**
 * The report's copy of the project's newest signed audit anchors: every mailed
 * report puts them in an inbox the database's administrators do not control, so
 * `ucledger audit verify --anchors` has something to check against if the
 * anchors table itself is wiped (docs/security.md, Anchors).
 */

/** Anchors a report carries: enough to check the recent trail, few enough to read. */
export const REPORT_ANCHORS = 5;

export interface AnchorsSection {
  /** Newest first; the fields a verifier needs, under the names `--anchors` reads. */
  latest: { projectKey: string; seq: number; hash: string; takenAt: string; keyId: string; signature: string }[];
}

export const NO_ANCHORS = "no signed anchors: UCLEDGER_AUDIT_KEY is not set (or the project had no audit events to sign yet)";

export function computeAnchors(anchors: Anchor[] | undefined): AnchorsSection {
  return {
    latest: (anchors ?? []).slice(0, REPORT_ANCHORS).map((a) => ({
      projectKey: a.projectKey,
      seq: a.seq,
      hash: a.hash,
      takenAt: a.takenAt,
      keyId: a.keyId,
      signature: a.signature,
    })),
  };
}

export function anchorsSummary(r: WeeklyReport): string {
  const n = r.anchors.latest.length;
  if (n === 0) return `${NO_ANCHORS[0]!.toUpperCase()}${NO_ANCHORS.slice(1)}.`;
  return (
    `The project's ${n} newest signed audit anchor(s) when the report was written: a copy outside the database. ` +
    "The JSON lines below, saved to a file, are what `ucledger audit verify --anchors FILE` checks the ledger against."
  );
}

/** Hash and signature in full: a shortened one could not be checked. */
export function anchorsTable(r: WeeklyReport): Table {
  return {
    headers: ["Event", "Taken", "Key", "Hash", "Signature"],
    numeric: [0],
    rows: r.anchors.latest.map((a) => [String(a.seq), localTime(a.takenAt, r.period.timezone), a.keyId, a.hash, a.signature]),
  };
}

/** One JSON line per anchor, as `audit verify --anchors` reads them. */
export function anchorsLines(r: WeeklyReport): string {
  return r.anchors.latest.map((a) => JSON.stringify(a)).join("\n");
}
