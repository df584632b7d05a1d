import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes SQL migrations from the schema; start-up applies them.
// api_requests is partitioned by month, which drizzle-kit cannot express: it lives in a
// custom migration and in src/db/partitioned/, outside the schema this file reads.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema/index.ts",
  out: "./migrations",
  strict: true,
});
