/**
 * QUIC key derivation (RFC 9001 §5): HKDF-Extract and HKDF-Expand (RFC 5869) on node:crypto's
 * HMAC, TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1), the Initial secrets every endpoint derives
 * from the client's first Destination Connection ID with the version 1 salt (RFC 9001 §5.2),
 * the packet protection key, IV and header protection key of a secret (§5.1), and the next
 * secret of a key update (§6.1). Pure functions: bytes in, bytes out.
 */
import { Buffer } from 'node:buffer';
import { hkdfExpandLabel, hkdfExtract } from '../tls13/tls13-key-schedule.js';

/** RFC 9001 §5.2: the version 1 initial_salt. */
export const QUIC_V1_INITIAL_SALT = Uint8Array.from(
  Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'),
);

/** The AEADs QUIC uses with TLS 1.3 cipher suites (RFC 9001 §5.3). */
export type QuicAeadAlgorithm = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';

/** The keys that protect packets in one direction at one encryption level (RFC 9001 §5.1). */
export interface QuicPacketKeys {
  algorithm: QuicAeadAlgorithm;
  /** AEAD key: 16 bytes for AES-128-GCM, 32 otherwise. */
  key: Uint8Array;
  /** AEAD IV: 12 bytes, XORed with the packet number to form the nonce (§5.3). */
  iv: Uint8Array;
  /** Header protection key, the length of `key` (§5.4). */
  hp: Uint8Array;
}

/** Hash and key length of each AEAD's TLS 1.3 cipher suite (RFC 8446 §B.4). */
const SUITES: Record<QuicAeadAlgorithm, { hash: 'sha256' | 'sha384'; keyLength: number }> = {
  'aes-128-gcm': { hash: 'sha256', keyLength: 16 }, // TLS_AES_128_GCM_SHA256
  'aes-256-gcm': { hash: 'sha384', keyLength: 32 }, // TLS_AES_256_GCM_SHA384
  'chacha20-poly1305': { hash: 'sha256', keyLength: 32 }, // TLS_CHACHA20_POLY1305_SHA256
};

/** The hash of the cipher suite of `algorithm`. */
export function quicHashOf(algorithm: QuicAeadAlgorithm): 'sha256' | 'sha384' {
  return SUITES[algorithm].hash;
}

/** The Initial secrets of a connection (RFC 9001 §5.2). */
export interface QuicInitialSecrets {
  initialSecret: Uint8Array;
  clientInitialSecret: Uint8Array;
  serverInitialSecret: Uint8Array;
}

/**
 * RFC 9001 §5.2: initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id);
 * client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32) and
 * server_initial_secret likewise with "server in".
 */
export function quicInitialSecrets(
  clientDcid: Uint8Array,
  salt: Uint8Array = QUIC_V1_INITIAL_SALT,
): QuicInitialSecrets {
  const initialSecret = hkdfExtract('sha256', salt, clientDcid);
  const empty = new Uint8Array(0);
  return {
    initialSecret,
    clientInitialSecret: hkdfExpandLabel('sha256', initialSecret, 'client in', empty, 32),
    serverInitialSecret: hkdfExpandLabel('sha256', initialSecret, 'server in', empty, 32),
  };
}

/**
 * The packet protection keys of a secret (RFC 9001 §5.1): "quic key", "quic iv" (12 bytes) and
 * "quic hp", expanded with the hash of the cipher suite.
 */
export function deriveQuicPacketKeys(secret: Uint8Array, algorithm: QuicAeadAlgorithm): QuicPacketKeys {
  const { hash, keyLength } = SUITES[algorithm];
  const empty = new Uint8Array(0);
  return {
    algorithm,
    key: hkdfExpandLabel(hash, secret, 'quic key', empty, keyLength),
    iv: hkdfExpandLabel(hash, secret, 'quic iv', empty, 12),
    hp: hkdfExpandLabel(hash, secret, 'quic hp', empty, keyLength),
  };
}

/** Initial packets are protected with AEAD_AES_128_GCM keys of the Initial secrets (RFC 9001 §5.2). */
export function quicInitialKeys(clientDcid: Uint8Array): { client: QuicPacketKeys; server: QuicPacketKeys } {
  const secrets = quicInitialSecrets(clientDcid);
  return {
    client: deriveQuicPacketKeys(secrets.clientInitialSecret, 'aes-128-gcm'),
    server: deriveQuicPacketKeys(secrets.serverInitialSecret, 'aes-128-gcm'),
  };
}

/** The secret after a key update: HKDF-Expand-Label(secret, "quic ku", "", Hash.length) (RFC 9001 §6.1). */
export function nextQuicSecret(secret: Uint8Array, algorithm: QuicAeadAlgorithm): Uint8Array {
  const hash = SUITES[algorithm].hash;
  return hkdfExpandLabel(hash, secret, 'quic ku', new Uint8Array(0), hash === 'sha256' ? 32 : 48);
}
