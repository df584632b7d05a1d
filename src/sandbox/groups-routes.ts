import type { SandboxContext } from "./context.ts";
import { isResult, pageOf, parseListQuery } from "./files-routes.ts";
import { REMOVED } from "./file-table.ts";
import { Router, noContent, notFound, ok } from "./http.ts";
import type { Sequence } from "./paginate.ts";
import type { Group } from "./seed.ts";
import { isoMicros } from "./time.ts";

// Groups: list (paged like files, no `totals`), info and delete. Groups are
// created by the Upload API only, so the sandbox generates a few.

const CDN = "https://ucarecdn.com";

class GroupSequence implements Sequence {
  readonly length: number;

  constructor(
    private readonly groups: Group[],
    private readonly descending: boolean,
  ) {
    this.length = groups.length;
  }

  at(p: number): Group {
    return this.groups[this.descending ? this.length - 1 - p : p] as Group;
  }

  keyAt(p: number): number {
    return this.descending ? -this.at(p).createdUs : this.at(p).createdUs;
  }

  matches(): boolean {
    return true;
  }
}

export function registerGroupRoutes(router: Router, ctx: SandboxContext): void {
  const json = (g: Group) => ({
    id: g.id,
    datetime_created: isoMicros(g.createdUs),
    files_count: g.files.length,
    cdn_url: `${CDN}/${g.id}/`,
    url: `${ctx.baseUrl}/groups/${g.id}/`,
  });

  router.add("/groups/", {
    GET: (req) => {
      const query = parseListQuery(req.query, "datetime_created");
      if (isResult(query)) return query;
      const seq = new GroupSequence(ctx.groups, query.descending);
      const page = pageOf(seq, query, ctx.baseUrl, "/groups/");
      return ok({
        next: page.next,
        previous: page.previous,
        total: ctx.groups.length,
        per_page: query.limit,
        results: page.positions.map((p) => json(seq.at(p))),
      });
    },
  });

  router.add("/groups/:id/", {
    GET: (req) => {
      const group = ctx.groups.find((g) => g.id === req.params["id"]);
      if (!group) return notFound();
      // Removed files show up as null (recorded behaviour).
      const files = group.files.map((i) =>
        ctx.table.status[i] === REMOVED ? null : { ...ctx.files.toJson(i, false), default_effects: "" },
      );
      return ok({ ...json(group), files });
    },
    DELETE: (req) => {
      const at = ctx.groups.findIndex((g) => g.id === req.params["id"]);
      if (at < 0) return notFound();
      ctx.groups.splice(at, 1);
      return noContent();
    },
  });
}
