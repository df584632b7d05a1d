/**
 * The API-side floor: the official SDK's `paginate(listOfFiles)` at 1,000 a
 * page, live files then `removed: true`, nothing written anywhere.
 */
import { listOfFiles, paginate, UploadcareSimpleAuthSchema } from "@uploadcare/rest-client";
import { contenderArgs, measure } from "./child.ts";

const { sandbox } = contenderArgs();
const settings = {
  authSchema: new UploadcareSimpleAuthSchema({ publicKey: sandbox.publicKey, secretKey: sandbox.secretKey }),
  apiBaseURL: sandbox.url,
};

await measure(async () => {
  let files = 0;
  for (const removed of [false, true]) {
    for await (const page of paginate(listOfFiles)({ limit: 1000, removed }, settings)) files += page.results.length;
  }
  return { files };
});
