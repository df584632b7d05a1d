import type { Database } from "../db/client.ts";

/** One apply at a time per plan: `tryAcquire` answers a release function, or null when another holds the plan. */
export interface PlanLock {
  tryAcquire(projectKey: string, planId: string): Promise<(() => Promise<void>) | null>;
}

/** Advisory-lock namespace of plan applies ("uclp"). */
const PLAN_LOCK_NAMESPACE = 0x75636c70;

/**
 * Within one process. Enough on PGlite, where the data directory's lock file
 * already keeps every other process out of the database.
 */
export function inProcessPlanLock(): PlanLock {
  const held = new Set<string>();
  return {
    async tryAcquire(projectKey, planId) {
      const key = `${projectKey}\u0000${planId}`;
      if (held.has(key)) return null;
      held.add(key);
      return async () => {
        held.delete(key);
      };
    },
  };
}

/**
 * A session advisory lock on a connection of its own, held for the whole
 * apply. If the process dies, the server ends the session and the lock goes
 * with it, so a rerun never waits for a lease to run out, and two instances
 * never apply one plan at once.
 */
export function serverPlanLock(pool: NonNullable<Database["pool"]>): PlanLock {
  const local = inProcessPlanLock();
  return {
    async tryAcquire(projectKey, planId) {
      const releaseLocal = await local.tryAcquire(projectKey, planId);
      if (!releaseLocal) return null;
      const key = `ucledger.plan:${projectKey}:${planId}`;
      let client;
      try {
        client = await pool.connect();
      } catch (err) {
        await releaseLocal();
        throw err;
      }
      try {
        const { rows } = await client.query<{ ok: boolean }>("select pg_try_advisory_lock($1, hashtext($2)) as ok", [PLAN_LOCK_NAMESPACE, key]);
        if (!rows[0]?.ok) {
          client.release();
          await releaseLocal();
          return null;
        }
      } catch (err) {
        client.release(err as Error);
        await releaseLocal();
        throw err;
      }
      const held = client;
      return async () => {
        try {
          await held.query("select pg_advisory_unlock($1, hashtext($2))", [PLAN_LOCK_NAMESPACE, key]);
          held.release();
        } catch (err) {
          // A connection that cannot unlock is discarded: closing it drops the lock.
          held.release(err as Error);
        } finally {
          await releaseLocal();
        }
      };
    },
  };
}

/** The lock that fits the database: advisory locks on a server, in-process on PGlite. */
export function planLockFor(database: Pick<Database, "kind" | "pool">): PlanLock {
  return database.kind === "postgres" && database.pool ? serverPlanLock(database.pool) : inProcessPlanLock();
}
