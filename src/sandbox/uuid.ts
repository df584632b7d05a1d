// UUIDs are kept as four 32-bit words (16 bytes a file instead of a 36-char
// string), and formatted only when a response needs them.

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function hex8(w: number): string {
  return (
    (HEX[(w >>> 24) & 0xff] as string) +
    (HEX[(w >>> 16) & 0xff] as string) +
    (HEX[(w >>> 8) & 0xff] as string) +
    (HEX[w & 0xff] as string)
  );
}

export function formatUuid(w0: number, w1: number, w2: number, w3: number): string {
  const b = hex8(w1);
  const c = hex8(w2);
  return `${hex8(w0)}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${hex8(w3)}`;
}

export function isUuid(text: string): boolean {
  return UUID_RE.test(text);
}

/** Parses a canonical UUID (any case) into four words, or null. */
export function parseUuid(text: string): [number, number, number, number] | null {
  if (!UUID_RE.test(text)) return null;
  const h = text.replace(/-/g, "");
  return [
    parseInt(h.slice(0, 8), 16) >>> 0,
    parseInt(h.slice(8, 16), 16) >>> 0,
    parseInt(h.slice(16, 24), 16) >>> 0,
    parseInt(h.slice(24, 32), 16) >>> 0,
  ];
}
