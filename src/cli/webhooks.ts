import { EXIT_CONFIG } from "../errors.ts";
import { createUploadcareClient } from "../sync/uploadcare/create-client.ts";
import { installWebhooks } from "../sync/webhooks/install.ts";
import { cliActor, parseFlags, selectProjects, withRuntime } from "./runtime.ts";

/** `ucledger webhooks install --url URL [--project KEY]`: subscribes to the five file events. */
export async function webhooksCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, { url: { type: "string" }, project: { type: "string" } }, "webhooks");
  if (positionals[0] !== "install" || positionals.length > 1 || !values.url) {
    process.stderr.write("usage: ucledger webhooks install --url https://your-host/v1/webhooks/uploadcare [--project KEY]\n");
    return EXIT_CONFIG;
  }
  return withRuntime(async (runtime) => {
    for (const project of selectProjects(runtime, values.project)) {
      const client = createUploadcareClient({ db: runtime.database.db, logger: runtime.logger, project });
      const result = await installWebhooks(
        { db: runtime.database.db, client, now: () => new Date() },
        { targetUrl: values.url!, signingSecret: project.webhookSecret, actor: cliActor() },
      );
      process.stdout.write(
        `${project.publicKey}: ${result.created.length} subscriptions created, ${result.updated.length} updated (${[...result.created, ...result.updated].join(", ")})\n`,
      );
    }
    return 0;
  });
}
