import { z } from "zod";
import { AppError, ValidationError } from "../../errors.ts";

/**
 * A reference set as NDJSON, read as it streams in: one
 * `{"ref":"orders/981","value":"<uuid or CDN URL>"}` per line. A line that is
 * not such an object stops the whole set (a set with holes would drop
 * references); a value that names no file does not (it is counted).
 */

/** The most one replacement may send: about 5 million typical lines. */
export const REFERENCE_BODY_LIMIT_BYTES = 512 * 1024 * 1024;
/** One line: a ref and a long CDN URL with many operations fit easily. */
export const REFERENCE_LINE_LIMIT_BYTES = 16 * 1024;

const noNul = (s: string) => !s.includes("\u0000");

export const ReferenceLine = z.strictObject({
  ref: z.string().min(1, "must not be empty").max(1000, "must be at most 1000 characters").refine(noNul, "must not contain NUL characters"),
  value: z.string().max(4000, "must be at most 4000 characters").refine(noNul, "must not contain NUL characters"),
});
export type ReferenceLine = z.infer<typeof ReferenceLine>;

/** Parses one line; throws a 400 naming the line and the field. */
export function parseReferenceLine(text: string, line: number): ReferenceLine {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ValidationError(`body: line ${line}: not valid JSON`);
  }
  const parsed = ReferenceLine.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String).join(".");
  throw new ValidationError(`body: line ${line}: ${path ? `${path}: ` : ""}${issue.message}`);
}

/** The lines of a byte stream, numbered from 1 (blank ones skipped), within the limits. */
export async function* readLines(
  body: AsyncIterable<Uint8Array>,
  limits: { maxBytes: number; maxLineBytes: number } = { maxBytes: REFERENCE_BODY_LIMIT_BYTES, maxLineBytes: REFERENCE_LINE_LIMIT_BYTES },
): AsyncGenerator<{ line: number; text: string }> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let total = 0;
  let pending = "";
  let line = 0;
  const decode = (chunk?: Uint8Array) => {
    try {
      return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode();
    } catch {
      throw new ValidationError(`body: line ${line + 1}: not valid UTF-8`);
    }
  };
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limits.maxBytes) throw new AppError("PAYLOAD_TOO_LARGE", `body: larger than ${limits.maxBytes} bytes`);
    pending += decode(chunk);
    let start = 0;
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n", start)) {
      const text = pending.slice(start, nl);
      start = nl + 1;
      line += 1;
      if (text.length > limits.maxLineBytes) throw new ValidationError(`body: line ${line}: longer than ${limits.maxLineBytes} bytes`);
      if (text.trim() !== "") yield { line, text };
    }
    pending = pending.slice(start);
    if (Buffer.byteLength(pending) > limits.maxLineBytes) throw new ValidationError(`body: line ${line + 1}: longer than ${limits.maxLineBytes} bytes`);
  }
  pending += decode();
  if (pending.trim() !== "") yield { line: line + 1, text: pending };
}
