// Worker threads start as plain Node whatever flags the process ran with (an
// `--import tsx` in execArgv does not reach a worker's own entry module on Node 20),
// so this JavaScript entry registers tsx, then loads the TypeScript module it was given.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
