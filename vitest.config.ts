import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // PGlite start-up and sandbox seeding dominate; each file runs in its own fork.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more workers only thrash PGlite's WASM start-up.
    maxWorkers: 2,
  },
});
