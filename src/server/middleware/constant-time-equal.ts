/**
 * Comparison of secrets (passwords, tokens) in time that does not depend on where the inputs
 * differ, so an attacker cannot learn a secret byte by byte from response times.
 * `crypto.timingSafeEqual` needs inputs of equal length; comparing SHA-256 digests gives it that
 * without revealing the secret's length through an early length check.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The SHA-256 digest of `value` (UTF-8), the form secrets are compared in. */
export function secretDigest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** True when `candidate` equals the secret whose {@link secretDigest} is `digest`, in constant time. */
export function matchesSecret(candidate: string, digest: Buffer): boolean {
  return timingSafeEqual(secretDigest(candidate), digest);
}
