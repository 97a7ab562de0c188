/**
 * CertificateVerify signatures (RFC 8446 §4.4.3): the signed content (64 spaces, a context
 * string, a zero byte, the transcript hash), the choice of a SignatureScheme for a private key,
 * and signing and verifying with node:crypto (RSA-PSS with salt = hash length, ECDSA with DER
 * signatures on the curve the scheme names, Ed25519).
 */
import { constants, type KeyObject, sign, verify } from 'node:crypto';
import { Tls13SignatureScheme } from './tls13-extensions.js';

const SERVER_CONTEXT = 'TLS 1.3, server CertificateVerify';
const CLIENT_CONTEXT = 'TLS 1.3, client CertificateVerify';

/** The content covered by a CertificateVerify signature (RFC 8446 §4.4.3). */
export function certificateVerifyContent(side: 'server' | 'client', transcript: Uint8Array): Buffer {
  return Buffer.concat([
    Buffer.alloc(64, 0x20),
    Buffer.from(side === 'server' ? SERVER_CONTEXT : CLIENT_CONTEXT, 'latin1'),
    Buffer.of(0),
    transcript,
  ]);
}

interface SchemeParameters {
  digest: string | null;
  keyType: string;
  curve?: string;
  pss: boolean;
}

const SCHEMES = new Map<number, SchemeParameters>([
  [
    Tls13SignatureScheme.ecdsa_secp256r1_sha256,
    { digest: 'sha256', keyType: 'ec', curve: 'prime256v1', pss: false },
  ],
  [
    Tls13SignatureScheme.ecdsa_secp384r1_sha384,
    { digest: 'sha384', keyType: 'ec', curve: 'secp384r1', pss: false },
  ],
  [
    Tls13SignatureScheme.ecdsa_secp521r1_sha512,
    { digest: 'sha512', keyType: 'ec', curve: 'secp521r1', pss: false },
  ],
  [Tls13SignatureScheme.rsa_pss_rsae_sha256, { digest: 'sha256', keyType: 'rsa', pss: true }],
  [Tls13SignatureScheme.rsa_pss_rsae_sha384, { digest: 'sha384', keyType: 'rsa', pss: true }],
  [Tls13SignatureScheme.rsa_pss_rsae_sha512, { digest: 'sha512', keyType: 'rsa', pss: true }],
  [Tls13SignatureScheme.rsa_pss_pss_sha256, { digest: 'sha256', keyType: 'rsa-pss', pss: true }],
  [Tls13SignatureScheme.rsa_pss_pss_sha384, { digest: 'sha384', keyType: 'rsa-pss', pss: true }],
  [Tls13SignatureScheme.rsa_pss_pss_sha512, { digest: 'sha512', keyType: 'rsa-pss', pss: true }],
  [Tls13SignatureScheme.ed25519, { digest: null, keyType: 'ed25519', pss: false }],
]);

/** The schemes a CertificateVerify may use in TLS 1.3 (no PKCS#1 v1.5, §4.4.3), in preference order. */
export const TLS13_SIGNATURE_SCHEMES: readonly number[] = [...SCHEMES.keys()];

/** True when `key` (a public or private key) can sign or verify with `scheme`. */
export function schemeMatchesKey(scheme: number, key: KeyObject): boolean {
  const p = SCHEMES.get(scheme);
  if (p === undefined || key.asymmetricKeyType !== p.keyType) return false;
  return p.curve === undefined || key.asymmetricKeyDetails?.namedCurve === p.curve;
}

/** The first of `offered` (the peer's signature_algorithms) that `key` can produce, or undefined. */
export function chooseSignatureScheme(key: KeyObject, offered: readonly number[]): number | undefined {
  for (const scheme of TLS13_SIGNATURE_SCHEMES) {
    if (offered.includes(scheme) && schemeMatchesKey(scheme, key)) return scheme;
  }
  return undefined;
}

function keyInput(scheme: number, key: KeyObject) {
  const p = SCHEMES.get(scheme)!;
  if (p.pss)
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  if (p.keyType === 'ec') return { key, dsaEncoding: 'der' as const };
  return { key };
}

/** Signs `content` with `scheme`; the caller has checked {@link schemeMatchesKey}. */
export function signWithScheme(scheme: number, key: KeyObject, content: Uint8Array): Buffer {
  return sign(SCHEMES.get(scheme)!.digest, content, keyInput(scheme, key));
}

/** Verifies a signature; false for a scheme that does not fit the key or a bad signature. */
export function verifyWithScheme(
  scheme: number,
  key: KeyObject,
  content: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!schemeMatchesKey(scheme, key)) return false;
  try {
    return verify(SCHEMES.get(scheme)!.digest, content, keyInput(scheme, key), signature);
  } catch {
    return false;
  }
}
