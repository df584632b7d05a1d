#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `npm install` is the only build step.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
