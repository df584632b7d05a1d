/**
 * A timestamptz column as the canonical ISO text (`2018-11-27T01:00:43.001705Z`),
 * formatted by the database: converting in JavaScript cost about 60 µs a row,
 * most of an export's time. The text casts straight back to timestamptz, so it
 * also serves as a keyset cursor value.
 */
export function isoColumn(column: string, alias = column): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as ${alias}`;
}
