import type { ListCursor, ListOptions, ListPage, UploadcareClient } from "../uploadcare/client.ts";

/**
 * Pages of `GET /files/` from a cursor, following Uploadcare's `next` links,
 * with one page of lookahead: the next request is in flight while the caller
 * writes the current page, so network and database time overlap. Memory stays
 * at two pages whatever the project's size. Once `signal` is aborted (the run
 * lost its lease) no further request starts: at most the one in flight lands.
 */
export async function* listPages(
  client: UploadcareClient,
  start: ListCursor,
  options: Omit<ListOptions, keyof ListCursor> = {},
  signal?: AbortSignal,
): AsyncGenerator<ListPage> {
  signal?.throwIfAborted();
  let pending: Promise<ListPage> | null = client.listFiles({ ...options, ...start });
  while (pending) {
    const page: ListPage = await pending;
    signal?.throwIfAborted();
    pending = page.next ? client.listFiles({ ...options, ...page.next }) : null;
    // If the caller stops early (an error while writing), the prefetch's own
    // failure must not surface as an unhandled rejection.
    pending?.catch(() => {});
    yield page;
  }
}
