import type { Child } from "hono/jsx";
import type { Caller } from "../auth.ts";
import { ASSET_VERSION } from "./assets.ts";
import { CsrfField } from "./ui.tsx";

export const SECTIONS = [
  { id: "overview", label: "Overview", href: "/dashboard" },
  { id: "projects", label: "All projects", href: "/dashboard/projects" },
  { id: "files", label: "Files", href: "/dashboard/files" },
  { id: "audit", label: "Audit", href: "/dashboard/audit" },
  { id: "plans", label: "Plans", href: "/dashboard/plans" },
  { id: "reports", label: "Reports", href: "/dashboard/reports" },
  { id: "api-log", label: "API log", href: "/dashboard/api-log" },
] as const;
export type SectionId = (typeof SECTIONS)[number]["id"];

export interface PageShell {
  title: string;
  section?: SectionId;
  caller?: Caller;
  csrf?: string;
}

function Head({ title }: { title: string }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · ucledger`}</title>
      {/* No favicon request: it would only be one more 401 in the log. */}
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href={`/dashboard/assets/app.css?v=${ASSET_VERSION}`} />
      <script src={`/dashboard/assets/app.js?v=${ASSET_VERSION}`} defer></script>
    </head>
  );
}

/** Every page: skip link, navigation, who is signed in, the content. */
export function Layout({ shell, children }: { shell: PageShell; children: Child }) {
  return (
    <html lang="en">
      <Head title={shell.title} />
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/dashboard">
            ucledger
          </a>
          {shell.caller ? (
            <nav aria-label="Sections">
              <ul>
                {SECTIONS.map((s) => (
                  <li>
                    <a href={s.href} aria-current={s.id === shell.section ? "page" : undefined}>
                      {s.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          ) : null}
          {shell.caller && shell.csrf ? (
            <form class="who" method="post" action="/dashboard/sign-out">
              <span>
                {shell.caller.name} <span class="badge">{shell.caller.role}</span>
              </span>
              <CsrfField token={shell.csrf} />
              <button type="submit" class="link">
                Sign out
              </button>
            </form>
          ) : null}
        </header>
        <main id="main" tabindex={-1}>
          <h1>{shell.title}</h1>
          {children}
        </main>
      </body>
    </html>
  );
}
