import { EXIT_CONFIG } from "../errors.ts";
import { reportStartupFailure } from "../startup-failure.ts";
import { commands } from "./commands.ts";

/** `ucledger <command> [args]`: dispatches to one file per command. */
async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name ? 0 : EXIT_CONFIG;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`ucledger: unknown command '${name}'\n${usage()}`);
    return EXIT_CONFIG;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    // Loaded only on failure: the runtime module brings the whole application.
    const { explainHeldDataDir } = await import("./runtime.ts");
    throw explainHeldDataDir(err);
  }
}

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: ucledger <command> [options]\n\ncommands:\n${lines.join("\n")}\n`;
}

main(process.argv.slice(2)).then((code) => process.exit(code), reportStartupFailure);
