import type { Context } from "hono";
import type { Child } from "hono/jsx";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Db } from "../../db/client.ts";
import type { DecisionServices } from "../../decisions/services.ts";
import type { Logger } from "../../logger.ts";
import type { App } from "../app.ts";
import { ApiFailure, apiClient } from "./api-client.ts";
import { ASSETS } from "./assets.ts";
import { weekOverviews } from "./charts.ts";
import { canOperate, projectList, type PageContext } from "./context.ts";
import { Layout, type PageShell, type SectionId } from "./layout.tsx";
import { apiLogPage } from "./pages/api-log.tsx";
import { auditPage } from "./pages/audit.tsx";
import { filePage } from "./pages/file.tsx";
import { filesPage } from "./pages/files.tsx";
import { overviewPage } from "./pages/overview.tsx";
import { planPage } from "./pages/plan.tsx";
import { policyNewPage, previewTemplatePolicy, policyBody, readPolicyForm, refusalText } from "./pages/policy-new.tsx";
import { projectsPage } from "./pages/projects.tsx";
import { plansPage } from "./pages/plans.tsx";
import { reportPage, reportsPage } from "./pages/reports.tsx";
import { signInBody } from "./pages/sign-in.tsx";
import { tagPage, tagSubmit } from "./pages/tag.tsx";
import { proposeOneFile } from "./pages/file-action.tsx";
import { csrfToken, endSession, readSession, requireCsrf, startSession } from "./session.ts";
import { Notice } from "./ui.tsx";

/**
 * The dashboard: server-rendered pages under /dashboard that read and act
 * through the HTTP API as the signed-in token (see api-client.ts), with a
 * strict Content-Security-Policy (own scripts and styles only) as a second
 * line behind the escaping.
 */

export interface DashboardDeps {
  database: { db: Db };
  logger: Logger;
  timezone: string;
  now: () => Date;
  /** The API's decision services (the same object), for the policy form's preview. */
  decisions?: DecisionServices | undefined;
}

const UUID = "[0-9a-fA-F-]{36}";
const PROJECT = "[^/]{1,200}";

const security = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    frameSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
    objectSrc: ["'none'"],
  },
  referrerPolicy: "same-origin",
});

function render(c: Context, shell: PageShell, body: Child, status: ContentfulStatusCode = 200) {
  c.header("Cache-Control", "no-store");
  return c.html(`<!doctype html>${<Layout shell={shell}>{body}</Layout>}`, status);
}

/** Where to go after signing in: a dashboard path only, never another site. */
function safeNext(value: unknown): string {
  return typeof value === "string" && /^\/dashboard(\/[^\s\\]*)?(\?[^\s\\]*)?$/.test(value) && !value.startsWith("//") ? value : "/dashboard";
}

export function registerDashboard(app: App, deps: DashboardDeps) {
  const db = deps.database.db;
  const weekOverview = weekOverviews(db);
  const decisions = { settings: deps.decisions?.settings, protection: deps.decisions?.protection, approvals: deps.decisions?.approvals };

  app.get("/", (c) => c.redirect("/dashboard", 302));
  app.use("/dashboard", security);
  app.use("/dashboard/*", security);

  app.get("/dashboard/assets/:name", (c) => {
    const asset = ASSETS[c.req.param("name")];
    if (!asset) return c.text("no such asset", 404);
    c.header("Cache-Control", "public, max-age=31536000, immutable");
    return c.body(asset.body, 200, { "Content-Type": asset.type });
  });

  const refused = (c: Context) =>
    render(
      c,
      { title: "Form refused" },
      <Notice kind="error">
        This form was refused: it did not carry this browser's security token, so it may have come from another site. Go back, reload the page and send it
        again.
      </Notice>,
      403,
    );
  app.use("/dashboard/*", requireCsrf(refused));

  const signInPage = (c: Context, error?: string, status: ContentfulStatusCode = 200) =>
    render(c, { title: "Sign in" }, signInBody({ csrf: csrfToken(c), error, next: safeNext(c.req.query("next")) }), status);

  app.get("/dashboard/sign-in", (c) => signInPage(c));
  app.post("/dashboard/sign-in", async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form["token"] === "string" ? form["token"].trim() : "";
    const caller = await startSession(c, db, token, new Date());
    if (!caller) return signInPage(c, "That token is unknown or revoked.", 401);
    return c.redirect(safeNext(form["next"]), 303);
  });
  app.post("/dashboard/sign-out", async (c) => {
    await endSession(c, db, new Date());
    return c.redirect("/dashboard/sign-in", 303);
  });

  /** Runs a page as the signed-in caller; sends others to sign in. */
  const page =
    (section: SectionId, title: string, build: (ctx: PageContext, c: Context) => Promise<Child | { title: string; body: Child } | Response>) =>
    async (c: Context) => {
      const session = await readSession(c, db, new Date());
      const url = new URL(c.req.url);
      if (!session) {
        if (c.req.method !== "GET") return c.redirect("/dashboard/sign-in", 303);
        return c.redirect(`/dashboard/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
      }
      const ctx: PageContext = { caller: session.caller, csrf: csrfToken(c), api: apiClient(app, session.id), url, timezone: deps.timezone, db, now: deps.now, weekOverview, decisions };
      const shell = (t: string): PageShell => ({ title: t, section, caller: session.caller, csrf: ctx.csrf });
      try {
        const built = await build(ctx, c);
        if (built instanceof Response) return built;
        if (built && typeof built === "object" && "body" in built && "title" in built) return render(c, shell(built.title), built.body);
        return render(c, shell(title), built as Child);
      } catch (err) {
        if (!(err instanceof ApiFailure)) throw err;
        if (err.status === 401) return c.redirect("/dashboard/sign-in", 303);
        // The API's own status and message: 400 naming the parameter, 404, 409, …
        return render(c, shell(title), <Notice kind="error">{err.message}</Notice>, err.status as ContentfulStatusCode);
      }
    };

  app.get("/dashboard", page("overview", "Overview", overviewPage));
  app.get("/dashboard/projects", page("projects", "All projects", projectsPage));
  app.get("/dashboard/files", page("files", "Files", filesPage));
  app.get("/dashboard/tag", page("files", "Tag files", tagPage));
  app.post("/dashboard/tag", page("files", "Tag files", tagSubmit));
  app.get(`/dashboard/files/:project{${PROJECT}}/:uuid{${UUID}}`, page("files", "File", (ctx, c) => filePage(ctx, c.req.param("project")!, c.req.param("uuid")!)));
  app.post(
    `/dashboard/files/:project{${PROJECT}}/:uuid{${UUID}}/plan`,
    page("files", "File", async (ctx, c) => {
      const project = c.req.param("project")!;
      const uuid = c.req.param("uuid")!;
      const answer = await proposeOneFile(ctx, c, project, uuid);
      if (answer instanceof Response) return answer;
      return (
        <>
          <Notice kind="error">{answer}</Notice>
          <p>
            <a href={`/dashboard/files/${encodeURIComponent(project)}/${uuid}`}>Back to the file</a>
          </p>
        </>
      );
    }),
  );
  app.get("/dashboard/audit", page("audit", "Audit", auditPage));
  app.get("/dashboard/plans", page("plans", "Plans", (ctx) => plansPage(ctx)));
  app.get(`/dashboard/plans/:id{${UUID}}`, page("plans", "Plan", (ctx, c) => planPage(ctx, c.req.param("id")!)));
  app.get("/dashboard/reports", page("reports", "Reports", reportsPage));
  app.get(`/dashboard/reports/:id{${UUID}}`, page("reports", "Report", (ctx, c) => reportPage(ctx, c.req.param("id")!)));
  app.get("/dashboard/api-log", page("api-log", "API log", apiLogPage));

  // Actions: each is one API call as the signed-in token; the API decides whether the role may.
  app.post(
    "/dashboard/plans",
    page("plans", "Plans", async (ctx, c) => {
      const form = await c.req.parseBody();
      try {
        const plan = await ctx.api.post<{ id: string }>("/v1/plans", { policy: String(form["policy"] ?? ""), project: String(form["project"] ?? "") || undefined });
        return c.redirect(`/dashboard/plans/${plan.id}?done=proposed`, 303);
      } catch (err) {
        if (err instanceof ApiFailure && err.status !== 401) return plansPage(ctx, err.message);
        throw err;
      }
    }),
  );

  app.get("/dashboard/policies/new", page("plans", "New policy", (ctx) => policyNewPage(ctx)));
  app.post(
    "/dashboard/policies/new",
    page("plans", "New policy", async (ctx, c) => {
      const body = await c.req.parseBody();
      const form = readPolicyForm(body);
      if (!canOperate(ctx.caller)) return policyNewPage(ctx);
      try {
        if (body["intent"] === "create") {
          const created = await ctx.api.post<{ name: string }>("/v1/policies", policyBody(form));
          return c.redirect(`/dashboard/plans?${new URLSearchParams({ created: created.name }).toString()}`, 303);
        }
        const projects = (await projectList(ctx)).map((p) => p.projectKey);
        const projectKey = projects.includes(form.project) ? form.project : projects.length === 1 ? projects[0]! : null;
        if (projectKey === null) return policyNewPage(ctx, { form, error: "project: choose the project the policy is for" });
        return policyNewPage(ctx, { form, preview: await previewTemplatePolicy(ctx, projectKey, form) });
      } catch (err) {
        const said = err instanceof ApiFailure && err.status !== 401 ? err.message : refusalText(err);
        if (said === null) throw err;
        return policyNewPage(ctx, { form, error: said });
      }
    }),
  );

  for (const action of ["approve", "apply", "cancel"] as const) {
    app.post(
      `/dashboard/plans/:id{${UUID}}/${action}`,
      page("plans", "Plan", async (ctx, c) => {
        const id = c.req.param("id")!;
        const form = await c.req.parseBody();
        try {
          if (action === "apply") {
            if (form["confirm"] !== "yes") throw new ApiFailure(400, "BAD_REQUEST", "confirm: tick the box to apply the plan");
            await ctx.api.post(`/v1/plans/${id}/apply`);
          } else {
            await ctx.api.post(`/v1/plans/${id}/${action}`, { reason: String(form["reason"] ?? "") });
          }
        } catch (err) {
          if (err instanceof ApiFailure && err.status !== 401) return planPage(ctx, id, { error: err.message });
          throw err;
        }
        // Post, then redirect: reloading the page afterwards sends nothing again.
        return c.redirect(`/dashboard/plans/${id}?done=${action}`, 303);
      }),
    );
  }

  // Last: any other dashboard address is a page that does not exist, said in HTML.
  app.get("/dashboard/*", (c) =>
    render(
      c,
      { title: "No such page" },
      <Notice kind="error">
        There is no dashboard page at this address. <a href="/dashboard">Go to the overview</a>.
      </Notice>,
      404,
    ),
  );
}
