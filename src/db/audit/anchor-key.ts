import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The keys of audit anchors. Ed25519, not HMAC: verifying needs only the public
 * key, so an auditor, a second deployment or a laptop holding the exported
 * anchors can check them without being able to forge one. With HMAC anyone who
 * can verify can sign, and the secret would have to sit wherever `audit verify`
 * runs.
 *
 * Keys are given as PEM text or as base64 of the DER (PKCS#8 for the private
 * key, SPKI for a public one). Key material never reaches a log or an error.
 */

export interface AnchorSigner {
  keyId: string;
  /** Base64 Ed25519 signature of the text. */
  sign(text: string): string;
}

export interface AnchorKeys {
  /** Present when this process may take anchors. */
  signer: AnchorSigner | undefined;
  /** Public keys anchors are checked against, by key id. */
  publicKeys: Map<string, KeyObject>;
  /** Where the signing key came from. */
  source: "env" | "demo" | "none";
}

function asKeyInput(text: string, type: "pkcs8" | "spki"): string | { key: Buffer; format: "der"; type: "pkcs8" | "spki" } {
  const trimmed = text.trim();
  if (trimmed.startsWith("-----BEGIN")) return trimmed;
  if (!/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) throw new Error("neither PEM nor base64");
  return { key: Buffer.from(trimmed, "base64"), format: "der", type };
}

/** An Ed25519 private key from PEM or base64 PKCS#8; throws a message that never echoes the key. */
export function parsePrivateKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(asKeyInput(text, "pkcs8") as Parameters<typeof createPrivateKey>[0]);
  } catch {
    throw new Error("must be an Ed25519 private key (PEM, or base64 of PKCS#8 DER)");
  }
  if (key.asymmetricKeyType !== "ed25519") throw new Error("must be an Ed25519 key");
  return key;
}

/** An Ed25519 public key from PEM or base64 SPKI (a private key gives its public half). */
export function parsePublicKey(text: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(asKeyInput(text, "spki") as Parameters<typeof createPublicKey>[0]);
  } catch {
    try {
      key = createPublicKey(parsePrivateKey(text));
    } catch {
      throw new Error("must be an Ed25519 public key (PEM, or base64 of SPKI DER)");
    }
  }
  if (key.asymmetricKeyType !== "ed25519") throw new Error("must be an Ed25519 key");
  return key;
}

/** The first 16 hex digits of the SHA-256 of the public key's SPKI DER: names a key without revealing anything. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash("sha256").update(publicKey.export({ format: "der", type: "spki" })).digest("hex").slice(0, 16);
}

export function signerFrom(privateKey: KeyObject): AnchorSigner {
  const keyId = keyIdOf(createPublicKey(privateKey));
  return { keyId, sign: (text) => sign(null, Buffer.from(text, "utf8"), privateKey).toString("base64") };
}

/** Whether the base64 signature is the key's over the text. */
export function signatureHolds(publicKey: KeyObject, text: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(text, "utf8"), publicKey, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

/** A new key pair as PEM: for `ucledger audit keygen`-like use, the demo key, and tests. */
export function generateAnchorKeyPem(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privateKey: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    publicKey: publicKey.export({ format: "pem", type: "spki" }).toString(),
  };
}

/** The demo deployment's signing key, inside its data directory. */
export const DEMO_KEY_FILE = "audit-anchor-key.pem";

/**
 * Reads the demo key from the data directory, or makes it (readable by its owner
 * only) when `create` is set. Demo mode only: a real deployment's key must live
 * outside the machine's database files, or it guards nothing.
 */
export function demoKey(dataDir: string, create: boolean): KeyObject | undefined {
  const path = join(dataDir, DEMO_KEY_FILE);
  try {
    return parsePrivateKey(readFileSync(path, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || !create) return undefined;
  }
  const pem = generateAnchorKeyPem().privateKey;
  mkdirSync(dataDir, { recursive: true });
  try {
    writeFileSync(path, pem, { mode: 0o600, flag: "wx" });
    chmodSync(path, 0o600);
  } catch (err) {
    // Another process of the demo made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return parsePrivateKey(readFileSync(path, "utf8"));
    throw err;
  }
  return parsePrivateKey(pem);
}

export interface AnchorKeySettings {
  /** UCLEDGER_AUDIT_KEY: the private key, PEM or base64. */
  privateKey: string | undefined;
  /** UCLEDGER_AUDIT_PUBLIC_KEY: public keys verified against (older keys after a rotation, or all a verifier holds). */
  publicKeys: string[];
}

/**
 * The keys a process works with: the configured private key (and its public half),
 * every configured public key, and in demo mode (no key configured) the data
 * directory's own key, made on first use when `createDemoKey` is set.
 */
export function resolveAnchorKeys(settings: AnchorKeySettings, demo: { dataDir: string; createDemoKey: boolean } | undefined): AnchorKeys {
  const publicKeys = new Map<string, KeyObject>();
  for (const text of settings.publicKeys) {
    const key = parsePublicKey(text);
    publicKeys.set(keyIdOf(key), key);
  }
  let privateKey = settings.privateKey !== undefined ? parsePrivateKey(settings.privateKey) : undefined;
  let source: AnchorKeys["source"] = privateKey ? "env" : "none";
  if (!privateKey && demo) {
    privateKey = demoKey(demo.dataDir, demo.createDemoKey);
    if (privateKey) source = "demo";
  }
  if (!privateKey) return { signer: undefined, publicKeys, source };
  const signer = signerFrom(privateKey);
  publicKeys.set(signer.keyId, createPublicKey(privateKey));
  return { signer, publicKeys, source };
}
