import { copyFileToLocalStorage, deleteMetadata, updateMetadata } from "@uploadcare/rest-client";
import { UpstreamError } from "../errors.ts";
import type { UploadcareClient } from "../sync/uploadcare/client.ts";

/*
 * The writes of the tag and version actions, through the client's recording
 * transport (every attempt is in the API log, like every other call). Each
 * takes `beforeRetry`: it runs after the wait and before each further
 * attempt, so a retry is never blind (the caller looks again and may
 * withdraw the request by answering false).
 */

export interface WriteOptions {
  beforeRetry?: () => Promise<boolean>;
}

/** `PUT /files/{uuid}/metadata/{key}/`. */
export async function putMetadataKey(client: UploadcareClient, input: { uuid: string; key: string; value: string }, options: WriteOptions = {}): Promise<void> {
  const path = `/files/${input.uuid}/metadata/${input.key}/`;
  await client.transport.sdk({ method: "PUT", path, okStatus: 200, beforeRetry: options.beforeRetry }, (settings) => updateMetadata(input, settings));
}

/** `DELETE /files/{uuid}/metadata/{key}/`; a key already gone (404) is what was wanted. */
export async function deleteMetadataKey(client: UploadcareClient, input: { uuid: string; key: string }, options: WriteOptions = {}): Promise<void> {
  const path = `/files/${input.uuid}/metadata/${input.key}/`;
  try {
    await client.transport.sdk({ method: "DELETE", path, okStatus: 204, beforeRetry: options.beforeRetry }, (settings) => deleteMetadata(input, settings));
  } catch (err) {
    if (err instanceof UpstreamError && err.status === 404) return;
    throw err;
  }
}

/**
 * `POST /files/local_copy/`: a stored copy of `source` (a uuid, optionally
 * followed by CDN operations) carrying `metadata`. Answers the copy's uuid;
 * its size and type come later (the immediate answer describes a copy still
 * in progress), so the caller reads the copy back.
 */
export async function localCopy(
  client: UploadcareClient,
  input: { source: string; metadata: Record<string, string> },
  options: WriteOptions = {},
): Promise<{ uuid: string }> {
  const answer = await client.transport.sdk({ method: "POST", path: "/files/local_copy/", okStatus: 201, beforeRetry: options.beforeRetry }, (settings) =>
    copyFileToLocalStorage({ source: input.source, store: true, metadata: input.metadata }, settings),
  );
  const uuid = (answer?.result as { uuid?: unknown } | undefined)?.uuid;
  if (typeof uuid !== "string") throw new UpstreamError("POST /files/local_copy/: unexpected answer: no uuid of the copy");
  return { uuid: uuid.toLowerCase() };
}
