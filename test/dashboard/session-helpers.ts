import { expect } from "vitest";
import type { ApiHarness } from "../api/helpers.ts";

/** A signed-in dashboard session in-process: GET pages and POST forms with the CSRF token, as a browser would. */
export interface DashboardSession {
  get(path: string): Promise<Response>;
  post(path: string, fields: Record<string, string>): Promise<Response>;
}

const cookiePairs = (res: Response) => res.headers.getSetCookie().map((c) => c.split(";")[0]!);

function merge(...lists: string[][]): string {
  const jar = new Map<string, string>();
  for (const pair of lists.flat()) jar.set(pair.slice(0, pair.indexOf("=")), pair);
  return [...jar.values()].join("; ");
}

export async function dashboardSession(api: ApiHarness, role: "viewer" | "operator" | "admin"): Promise<DashboardSession> {
  const page = await api.app.request("/dashboard/sign-in");
  const pre = cookiePairs(page);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const res = await api.app.request("/dashboard/sign-in", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: merge(pre) },
    body: new URLSearchParams({ token: api.tokens[role], _csrf: csrf }).toString(),
  });
  expect(res.status).toBe(303);
  const cookie = merge(pre, cookiePairs(res));
  const fresh = /(?:^|; )ucledger_csrf=([^;]*)/.exec(cookie)![1]!;
  return {
    get: async (path) => api.app.request(path, { headers: { cookie } }),
    post: async (path, fields) =>
      api.app.request(path, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie },
        body: new URLSearchParams({ ...fields, _csrf: fresh }).toString(),
      }),
  };
}
