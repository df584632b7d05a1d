/**
 * A LIKE/ILIKE pattern matching `text` anywhere. The default escape character
 * is the backslash, so `\`, `%` and `_` in the text are escaped to match themselves.
 */
export function likePattern(text: string): string {
  return `%${escapeLike(text)}%`;
}

/** A LIKE pattern matching text that starts with `prefix`. */
export function likePrefix(prefix: string): string {
  return `${escapeLike(prefix)}%`;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
