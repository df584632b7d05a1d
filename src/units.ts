/**
 * The one byte convention of ucledger: decimal units (1 kB = 1,000 bytes,
 * 1 MB = 1,000,000, 1 GB = 10⁹), as Uploadcare bills and as the weekly
 * report, its charts and the dashboard print them. Here, at the bottom layer,
 * so the CLI, the reports and the dashboard can share one formatter.
 */

const BYTE_UNITS = ["B", "kB", "MB", "GB", "TB", "PB"] as const;

/** The unit a set of byte values reads best in: the largest one below the maximum. */
export function byteScale(maxBytes: number): { unit: string; divisor: number } {
  let i = 0;
  while (i < BYTE_UNITS.length - 1 && Math.abs(maxBytes) >= 1000 ** (i + 1)) i++;
  return { unit: BYTE_UNITS[i]!, divisor: 1000 ** i };
}

/** `999 B`, `1.50 kB`, `12.3 MB`, `640 GB`: three significant figures at most. */
export function formatBytes(bytes: number): string {
  const { unit, divisor } = byteScale(bytes);
  if (divisor === 1) return `${bytes} B`;
  const value = bytes / divisor;
  return `${value.toFixed(Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2)} ${unit}`;
}
