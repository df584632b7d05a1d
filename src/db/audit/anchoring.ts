import type { Queryable } from "../client.ts";
import type { Logger } from "../../logger.ts";
import type { KeyObject } from "node:crypto";
import { AnchorRefusedError, takeAnchor, type TakeResult } from "./anchors.ts";
import type { AnchorKeys } from "./anchor-key.ts";

export interface Anchoring {
  /** Whether anchors are taken at all (a signing key is configured). */
  enabled: boolean;
  /**
   * After a sync run commits: anchors the head if it moved. Never fails the run:
   * a refusal (the chain no longer follows on from the last anchor) is logged as
   * an error and the scheduled job reports it.
   */
  afterRun(projectKey: string, logger?: Logger): Promise<TakeResult | null>;
  /** The scheduled job: a refusal fails the job, so its claim records why. */
  scheduled(projectKey: string, logger?: Logger): Promise<TakeResult | null>;
}

/**
 * Takes anchors with the process's signing key. Without one, says so once (at
 * creation) and takes none: the chain is then only as good as the database.
 */
export function createAnchoring(deps: { db: Queryable; keys: AnchorKeys; logger: Logger; now?: () => Date }): Anchoring {
  const { db, keys, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const signer = keys.signer;
  const publicKey: KeyObject | undefined = signer ? keys.publicKeys.get(signer.keyId) : undefined;
  if (!signer) {
    logger.warn("UCLEDGER_AUDIT_KEY is not set: no audit anchors are taken, so a truncated, wiped or re-hashed audit trail cannot be told from an intact one (docs/security.md, Anchors)");
  } else if (keys.source === "demo") {
    logger.info({ keyId: signer.keyId }, "demo mode: audit anchors are signed with a key kept in the data directory");
  }
  const take = async (projectKey: string) => (signer && publicKey ? takeAnchor(db, projectKey, signer, publicKey, now()) : null);
  return {
    enabled: signer !== undefined,
    async afterRun(projectKey, log = logger) {
      try {
        const result = await take(projectKey);
        if (result?.taken) log.debug({ project: projectKey, seq: result.anchor.seq }, "audit anchor taken");
        return result;
      } catch (err) {
        if (err instanceof AnchorRefusedError) log.error({ project: projectKey }, err.message);
        else log.error({ project: projectKey, err: (err as { cause?: unknown }).cause ?? err }, "taking an audit anchor failed");
        return null;
      }
    },
    async scheduled(projectKey, log = logger) {
      const result = await take(projectKey);
      if (result?.taken) log.info({ project: projectKey, seq: result.anchor.seq }, "audit anchor taken");
      return result;
    },
  };
}
