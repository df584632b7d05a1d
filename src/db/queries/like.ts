/**
 * A LIKE/ILIKE pattern matching `text` anywhere. The default escape character
 * is the backslash, so `\`, `%` and `_` in the text are escaped to match themselves.
 */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
