import { formatBytes } from "../units.ts";
import type { Runtime } from "../bootstrap.ts";
import { projectKeys } from "../db/queries/project-list.ts";
import { findPlan, planItemsWithStatus, planProgress, reasonCounts, type PlanRecord } from "../db/queries/plans.ts";
import { startApply } from "../decisions/apply.ts";
import { planLockFor } from "../decisions/lock.ts";
import { PlanOptionsInput } from "../decisions/options.ts";
import { previewPlan, proposePlan, type SampleItem } from "../decisions/propose.ts";
import { approvalState, approvePlan, cancelPlan, expirePlans, type ApprovalState } from "../decisions/review.ts";
import { AppError, ConfigError, EXIT_CONFIG } from "../errors.ts";
import { createUploadcareClient } from "../sync/uploadcare/create-client.ts";
import { parsePairs } from "./policy.ts";
import { remoteJson, type RemoteServer } from "./remote.ts";
import { cliActor, parseFlags, remoteServer, selectProjects, withRuntime } from "./runtime.ts";

const USAGE = [
  "usage: ucledger plan propose --policy ID|NAME [--project KEY] [--option key=value]... [--note TEXT] [--yes] [--json]",
  "       ucledger plan show ID [--items N] [--json]",
  "       ucledger plan approve ID --reason TEXT [--yes] [--json]",
  "       ucledger plan apply ID [--yes] [--json]",
  "       ucledger plan cancel ID --reason TEXT [--yes]",
  "Without --yes, propose, approve, apply and cancel only show what they would do.",
].join("\n");

const STRING_OPTIONS = new Set(["holdKey", "holdValue"]);
/** Options that take a comma-separated list. */
const LIST_OPTIONS = new Set(["extraHoldKeys"]);

/** `--option key=value` pairs as plan options: numbers where the option is a number. */
export function parsePlanOptions(pairs: string[] | undefined): PlanOptionsInput | undefined {
  if (!pairs?.length) return undefined;
  const raw = Object.fromEntries(Object.entries(parsePairs(pairs, "option")).map(([k, v]) => [k, LIST_OPTIONS.has(k) ? v.split(",").map((key) => key.trim()) : STRING_OPTIONS.has(k) ? v : Number(v)]));
  const parsed = PlanOptionsInput.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`--option ${issue?.path.join(".") || ""}: ${issue?.message ?? "invalid"}`.replace(" :", ":"));
  }
  return parsed.data;
}


const count = (n: number) => n.toLocaleString("en-US");

function sampleLines(items: SampleItem[]): string {
  return items
    .map((i) => `  ${i.fileUuid}  ${formatBytes(i.size).padStart(10)}  ${i.state.padEnd(8)}  ${i.originalFilename}  ${JSON.stringify(i.evidence)}${i.reason ? `  [${i.reason}]` : ""}`)
    .join("\n");
}

/** Who approved, and who still has to: `approvals 1 of 2, 1 more needed from anyone but cli:ann (proposed it; …) and token:bob (approved)`. */
export function approvalLines(a: ApprovalState): string {
  const [proposer, ...approvers] = a.cannotApprove;
  const also = approvers.length ? ` and ${approvers.join(", ")} (approved)` : "";
  const need = a.stillNeeded > 0 ? `, ${a.stillNeeded} more needed from anyone but ${proposer} (proposed it; a proposer cannot approve)${also}` : "";
  return `  approvals ${a.received.length} of ${a.required}${need}${a.received.map((r) => `\n    ${r.actor} at ${r.at}: ${r.reason}`).join("")}`;
}

/** What the plan's summary shows beside the plan itself: the API's PlanDetail has the same fields. */
export interface PlanFigures {
  approvals: ApprovalState;
  progress: Awaited<ReturnType<typeof planProgress>>;
  excluded: { reason: string; files: number }[];
  skipped: { reason: string; files: number }[];
  failed: { reason: string; files: number }[];
}

async function loadFigures(runtime: Runtime, plan: PlanRecord): Promise<PlanFigures> {
  const db = runtime.database.db;
  const [approvals, progress, excluded, skipped, failed] = await Promise.all([
    approvalState(db, plan, runtime.env.approvals),
    planProgress(db, plan.projectKey, plan.id),
    reasonCounts(db, plan.projectKey, plan.id, "excluded"),
    reasonCounts(db, plan.projectKey, plan.id, "skipped"),
    reasonCounts(db, plan.projectKey, plan.id, "failed"),
  ]);
  return { approvals, progress, excluded, skipped, failed };
}

async function showPlan(runtime: Runtime, plan: PlanRecord, itemRows: number): Promise<string> {
  const lines = renderPlan(plan, await loadFigures(runtime, plan));
  if (itemRows > 0) {
    const items = await planItemsWithStatus(runtime.database.db, plan.projectKey, plan.id, ["pending", "copying", "copied", "sending", "done", "skipped", "failed", "excluded"], itemRows);
    lines.push(
      ...items.map((i) => `  #${i.seq} ${i.fileUuid}  ${formatBytes(i.size).padStart(10)}  ${i.status}${i.reason ? ` (${i.reason})` : ""}  ${i.originalFilename}`),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The plan's summary lines, from the database or from the server's PlanDetail alike. */
export function renderPlan(plan: PlanRecord, figures: PlanFigures): string[] {
  const { approvals, progress, excluded, skipped, failed } = figures;
  const lines = [
    `plan ${plan.id} (${plan.projectKey}): ${plan.status}`,
    `  policy ${String(plan.policy["name"])} v${plan.policyVersion}: ${plan.action} where ${(plan.policy["describe"] as string[] | undefined)?.join("; ") || "every file"}`,
    `  ${count(plan.fileCount)} files, ${formatBytes(plan.totalBytes)}; ${count(plan.excludedCount)} excluded`,
    `  proposed by ${plan.proposedBy} at ${plan.proposedAt}; ${plan.status === "proposed" ? `expires at ${plan.expiresAt}` : `approved at ${plan.approvedAt ?? "-"}`}`,
    approvalLines(approvals),
    `  progress: ${Object.entries(progress)
      .filter(([, v]) => v.files > 0)
      .map(([k, v]) => `${k} ${count(v.files)}`)
      .join(", ")}`,
  ];
  for (const [label, reasons] of [["excluded", excluded], ["skipped", skipped], ["failed", failed]] as const) {
    for (const r of reasons) lines.push(`  ${label}: ${count(r.files)} × ${r.reason}`);
  }
  if (plan.haltReason) lines.push(`  halted: ${plan.haltReason}`);
  if (plan.lastError) lines.push(`  last apply stopped: ${plan.lastError} (apply again to resume)`);
  return lines;
}

type Preview = Awaited<ReturnType<typeof previewPlan>>;

/** The dry run of `plan propose`, from this process or the server alike. */
function renderPreview(preview: Preview): string {
  return (
    `dry run: policy ${preview.policy.name} v${preview.policy.version} would ${preview.action} ${count(preview.files)} files (${formatBytes(preview.bytes)}) in ${preview.projectKey}\n` +
    `  where ${preview.conditions.join("; ") || "every file"}\n` +
    `  ${count(preview.excludedCount)} excluded${preview.excluded.map((e) => `\n    ${count(e.files)} × ${e.reason}`).join("")}\n` +
    `  needs ${preview.requiredApprovals} approval(s); would expire at ${preview.expiresAt} unless approved\n` +
    (preview.sample.length ? `  first files:\n${sampleLines(preview.sample)}\n` : "") +
    (preview.excludedSample.length ? `  first excluded:\n${sampleLines(preview.excludedSample)}\n` : "") +
    "nothing was stored. Add --yes to propose the plan.\n"
  );
}

/** `plan propose` through the server holding the data directory: POST /v1/plans, printed as this process would. */
async function proposeRemote(server: RemoteServer, input: { project?: string | undefined; policy: string; options: unknown; note?: string | undefined; yes: boolean; json: boolean }): Promise<number> {
  const out = (text: string) => void process.stdout.write(text);
  const body = { project: input.project, policy: input.policy, options: input.options, note: input.note, dryRun: !input.yes };
  if (!input.yes) {
    const preview = (await remoteJson<Preview>(server, "POST", "/v1/plans", body)).body;
    out(input.json ? `${JSON.stringify({ dryRun: true, ...preview })}\n` : renderPreview(preview));
    return 0;
  }
  const detail = (await remoteJson<PlanRecord & PlanFigures>(server, "POST", "/v1/plans", body)).body;
  const { approvals, progress, excluded, skipped, failed, ...plan } = detail;
  out(input.json ? `${JSON.stringify(plan)}\n` : `proposed ${renderPlan(plan, { approvals, progress, excluded, skipped, failed }).join("\n")}\n`);
  return 0;
}

/** `ucledger plan propose|show|approve|apply|cancel`. */
export async function planCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    argv,
    {
      project: { type: "string" },
      policy: { type: "string" },
      option: { type: "string", multiple: true },
      note: { type: "string" },
      reason: { type: "string" },
      items: { type: "string" },
      yes: { type: "boolean" },
      json: { type: "boolean" },
    },
    "plan",
  );
  const [action, id, ...rest] = positionals;
  const needsId = action === "show" || action === "approve" || action === "apply" || action === "cancel";
  if (!action || rest.length > 0 || (needsId ? !id : action !== "propose" || id !== undefined)) {
    process.stderr.write(`${USAGE}\n`);
    return EXIT_CONFIG;
  }
  if ((action === "approve" || action === "cancel") && !values.reason?.trim()) throw new ConfigError(`--reason: ${action} needs a reason`);
  if (action === "propose" && !values.policy) throw new ConfigError("--policy: required");
  const itemRows = values.items === undefined ? 0 : Number(values.items);
  if (!Number.isInteger(itemRows) || itemRows < 0) throw new ConfigError("--items: must be a whole number");
  const options = parsePlanOptions(values.option);
  const out = (text: string) => void process.stdout.write(text);
  const server = remoteServer();
  if (server && action === "propose") {
    try {
      return await proposeRemote(server, { project: values.project, policy: values.policy!, options, note: values.note, yes: values.yes ?? false, json: values.json ?? false });
    } catch (err) {
      if (err instanceof AppError && err.code !== "INTERNAL_SERVER_ERROR") {
        process.stderr.write(`ucledger plan: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  }

  return withRuntime(async (runtime) => {
    const db = runtime.database.db;
    const now = () => new Date();
    const actor = cliActor();
    const known = await projectKeys(db);
    try {
      if (action === "propose") {
        const keys = values.project ? selectProjects(runtime, values.project).map((p) => p.publicKey) : known;
        const input = { projectKeys: keys, policy: values.policy!, options, note: values.note, actor };
        if (!values.yes) {
          const preview = await previewPlan({ db, now, protection: runtime.env.protection, approvals: runtime.env.approvals }, input);
          out(values.json ? `${JSON.stringify({ dryRun: true, ...preview })}\n` : renderPreview(preview));
          return 0;
        }
        const plan = await proposePlan({ db, now, protection: runtime.env.protection, approvals: runtime.env.approvals }, input);
        out(values.json ? `${JSON.stringify(plan)}\n` : `proposed ${await showPlan(runtime, plan, 0)}`);
        return 0;
      }

      const found = await findPlan(db, id!, known);
      await expirePlans({ db, now }, [found.projectKey]);
      const plan = await findPlan(db, id!, [found.projectKey]);

      if (action === "show") {
        if (values.json) {
          const approvals = await approvalState(db, plan, runtime.env.approvals);
          out(`${JSON.stringify({ ...plan, requiredApprovals: approvals.required, progress: await planProgress(db, plan.projectKey, plan.id), approvals })}\n`);
        } else out(await showPlan(runtime, plan, itemRows));
        return 0;
      }
      if (action === "approve") {
        const review = { db, now, approvals: runtime.env.approvals };
        if (!values.yes) {
          const shown = await showPlan(runtime, plan, 0);
          // Four eyes: say now that --yes would be refused, rather than after.
          if (actor === plan.proposedBy) out(`${shown}dry run: ${actor} proposed this plan and cannot approve it: someone else must. Nothing was recorded.\n`);
          else out(`${shown}dry run: would approve as ${actor} with reason ${JSON.stringify(values.reason)}. Add --yes to approve.\n`);
          return 0;
        }
        const approved = await approvePlan(review, { planId: plan.id, projectKeys: [plan.projectKey], approver: actor, reason: values.reason! });
        if (values.json) {
          const approvals = await approvalState(db, approved, runtime.env.approvals);
          out(`${JSON.stringify({ ...approved, requiredApprovals: approvals.required, approvals })}\n`);
        } else out(await showPlan(runtime, approved, 0));
        return 0;
      }
      if (action === "cancel") {
        if (!values.yes) {
          out(`${await showPlan(runtime, plan, 0)}dry run: would cancel as ${actor}. Add --yes to cancel.\n`);
          return 0;
        }
        const cancelled = await cancelPlan({ db, now }, { planId: plan.id, projectKeys: [plan.projectKey], actor, reason: values.reason! });
        out(await showPlan(runtime, cancelled, 0));
        return 0;
      }

      // apply
      if (plan.status === "applied") {
        out(`plan ${plan.id} is applied already: nothing to send\n`);
        return 0;
      }
      if (!values.yes) {
        const progress = await planProgress(db, plan.projectKey, plan.id);
        const open = progress.pending.files + progress.copied.files + progress.copying.files + progress.sending.files;
        const bytes = progress.pending.bytes + progress.copied.bytes + progress.copying.bytes + progress.sending.bytes;
        out(
          `${await showPlan(runtime, plan, 0)}dry run: would ${plan.action} up to ${count(open)} files (${formatBytes(bytes)}) in batches of at most 100, ` +
            "re-reading each file from Uploadcare first. Nothing was sent. Add --yes to apply.\n",
        );
        return 0;
      }
      const project = selectProjects(runtime, plan.projectKey)[0]!;
      const client = createUploadcareClient({ db, logger: runtime.logger, project });
      const started = await startApply(
        {
          db,
          client,
          logger: runtime.logger,
          now,
          lock: planLockFor(runtime.database),
          protection: runtime.env.protection,
          onBatch: (b) => {
            if (!values.json) process.stderr.write(`batch ${b.batch}: ${b.done} done, ${b.failed} failed, ${b.skipped} skipped\n`);
          },
        },
        { planId: plan.id, projectKeys: [plan.projectKey], actor },
      );
      const summary = await started.run();
      if (values.json) out(`${JSON.stringify(summary)}\n`);
      else {
        out(
          `plan ${summary.planId}: ${summary.status}; this run: ${summary.batches} batches, ${count(summary.done)} done, ${count(summary.skipped)} skipped, ` +
            `${count(summary.failed)} failed${summary.recovered ? `, ${count(summary.recovered)} settled from an interrupted run` : ""}` +
            `${summary.haltReason ? `\nhalted: ${summary.haltReason}` : ""}\n`,
        );
      }
      return summary.status === "applied" ? 0 : 1;
    } catch (err) {
      if (err instanceof AppError && err.code !== "INTERNAL_SERVER_ERROR") {
        process.stderr.write(`ucledger plan: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  });
}
