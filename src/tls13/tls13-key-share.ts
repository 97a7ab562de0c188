/**
 * Ephemeral (EC)DHE key shares for TLS 1.3 (RFC 8446 §4.2.8, §7.4): X25519 (RFC 7748) and
 * the NIST curves secp256r1 / secp384r1 with uncompressed points (§4.2.8.2), over node:crypto.
 * A peer share of the wrong size, a point off the curve or an all-zero X25519 result is an
 * illegal_parameter (§4.2.8.2, §7.4.2).
 */
import {
  createECDH,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type ECDH,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { illegalParameter, Tls13Alert, Tls13Error } from './tls13-error.js';
import { Tls13NamedGroup } from './tls13-extensions.js';

// PKCS#8 / SPKI DER prefixes of an X25519 key (RFC 8410), to import raw 32-byte keys.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

/** The groups this core implements, in its default order of preference. */
export const TLS13_SUPPORTED_GROUPS: readonly number[] = [
  Tls13NamedGroup.x25519,
  Tls13NamedGroup.secp256r1,
  Tls13NamedGroup.secp384r1,
];

/** One side's ephemeral key pair for a named group. */
export class Tls13KeyShare {
  private constructor(
    readonly group: number,
    /** The key_exchange bytes to send. */
    readonly publicKey: Buffer,
    private readonly x25519Private: KeyObject | undefined,
    private readonly ecdh: ECDH | undefined,
  ) {}

  /**
   * A fresh key pair for `group`, or the pair of a given raw private key (32 bytes for X25519,
   * the scalar for the NIST curves), which tests use to replay published traces.
   */
  static generate(group: number, privateKey?: Uint8Array): Tls13KeyShare {
    if (group === Tls13NamedGroup.x25519) {
      const priv =
        privateKey === undefined
          ? generateKeyPairSync('x25519').privateKey
          : createPrivateKey({
              key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]),
              format: 'der',
              type: 'pkcs8',
            });
      const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
      return new Tls13KeyShare(group, spki.subarray(spki.length - 32), priv, undefined);
    }
    const curve = nistCurve(group);
    if (curve === undefined) {
      throw new Tls13Error('AVX_TLS13_INTERNAL', Tls13Alert.internal_error, `unsupported group ${group}`);
    }
    const ecdh = createECDH(curve);
    if (privateKey === undefined) ecdh.generateKeys();
    else ecdh.setPrivateKey(Buffer.from(privateKey));
    return new Tls13KeyShare(group, ecdh.getPublicKey(), undefined, ecdh);
  }

  /** The (EC)DHE shared secret with the peer's key_exchange (RFC 8446 §7.4). */
  computeSecret(peer: Uint8Array): Buffer {
    if (this.x25519Private !== undefined) {
      if (peer.length !== 32) throw illegalParameter(`X25519 key_exchange is ${peer.length} bytes, not 32`);
      const publicKey = createPublicKey({
        key: Buffer.concat([X25519_SPKI_PREFIX, peer]),
        format: 'der',
        type: 'spki',
      });
      const secret = diffieHellman({ privateKey: this.x25519Private, publicKey });
      if (secret.every((b) => b === 0)) {
        throw illegalParameter('X25519 shared secret is all zeros (RFC 8446 §7.4.2)');
      }
      return secret;
    }
    const expected = this.group === Tls13NamedGroup.secp256r1 ? 65 : 97;
    if (peer.length !== expected || peer[0] !== 4) {
      throw illegalParameter(
        `key_exchange for group ${this.group} is not an uncompressed point (RFC 8446 §4.2.8.2)`,
      );
    }
    try {
      return this.ecdh!.computeSecret(Buffer.from(peer));
    } catch (cause) {
      throw new Tls13Error(
        'AVX_TLS13_ILLEGAL_PARAMETER',
        Tls13Alert.illegal_parameter,
        'key_exchange is not a point on the curve (RFC 8446 §4.2.8.2)',
        { cause },
      );
    }
  }
}

function nistCurve(group: number): string | undefined {
  if (group === Tls13NamedGroup.secp256r1) return 'prime256v1';
  if (group === Tls13NamedGroup.secp384r1) return 'secp384r1';
  return undefined;
}
