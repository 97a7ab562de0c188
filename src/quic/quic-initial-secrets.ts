/**
 * QUIC key derivation (RFC 9001 §5): HKDF-Extract and HKDF-Expand (RFC 5869) on node:crypto's
 * HMAC, TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1), the Initial secrets every endpoint derives
 * from the client's first Destination Connection ID with the version 1 salt (RFC 9001 §5.2),
 * the packet protection key, IV and header protection key of a secret (§5.1), and the next
 * secret of a key update (§6.1). Pure functions: bytes in, bytes out.
 */
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';

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

/** HKDF-Extract(salt, IKM) = HMAC-Hash(salt, IKM) (RFC 5869 §2.2). */
export function hkdfExtract(hash: 'sha256' | 'sha384', salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(hash, salt).update(ikm).digest());
}

/** HKDF-Expand(PRK, info, L) (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i-1) | info | i). */
export function hkdfExpand(
  hash: 'sha256' | 'sha384',
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  const hashLength = hash === 'sha256' ? 32 : 48;
  if (!(length > 0 && length <= 255 * hashLength))
    throw new RangeError(`HKDF-Expand length ${length} out of range`);
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1, filled = 0; filled < length; i++) {
    previous = createHmac(hash, prk).update(previous).update(info).update(Uint8Array.of(i)).digest();
    out.set(previous.subarray(0, Math.min(hashLength, length - filled)), filled);
    filled += hashLength;
  }
  return out;
}

/**
 * HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 §7.1): HKDF-Expand with the
 * HkdfLabel struct { uint16 length; opaque label<7..255> = "tls13 " + Label; opaque context<0..255> }.
 */
export function hkdfExpandLabel(
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
  hash: 'sha256' | 'sha384' = 'sha256',
): Uint8Array {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'ascii');
  if (fullLabel.length > 255 || context.length > 255) throw new RangeError('HKDF label or context too long');
  const info = new Uint8Array(2 + 1 + fullLabel.length + 1 + context.length);
  info[0] = length >> 8;
  info[1] = length & 0xff;
  info[2] = fullLabel.length;
  info.set(fullLabel, 3);
  info[3 + fullLabel.length] = context.length;
  info.set(context, 4 + fullLabel.length);
  return hkdfExpand(hash, secret, info, length);
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
    clientInitialSecret: hkdfExpandLabel(initialSecret, 'client in', empty, 32),
    serverInitialSecret: hkdfExpandLabel(initialSecret, 'server in', empty, 32),
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
    key: hkdfExpandLabel(secret, 'quic key', empty, keyLength, hash),
    iv: hkdfExpandLabel(secret, 'quic iv', empty, 12, hash),
    hp: hkdfExpandLabel(secret, 'quic hp', empty, keyLength, hash),
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
  return hkdfExpandLabel(secret, 'quic ku', new Uint8Array(0), hash === 'sha256' ? 32 : 48, hash);
}
