import { createHmac, timingSafeEqual } from "node:crypto";

/** `v1=<hex HMAC-SHA256(signing secret, raw body)>`, as Uploadcare signs deliveries. */
export function signWebhookBody(secret: string, rawBody: string | Buffer): string {
  return `v1=${createHmac("sha256", secret).update(rawBody).digest("hex")}`;
}

/** Constant-time check of the whole `v1=…` header, as Uploadcare's Ruby verifier does. */
export function verifyWebhookSignature(secret: string, rawBody: string | Buffer, header: string | null | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signWebhookBody(secret, rawBody));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
