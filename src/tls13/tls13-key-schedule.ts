/**
 * The TLS 1.3 key schedule (RFC 8446 §7.1): HKDF-Extract / HKDF-Expand (RFC 5869),
 * HKDF-Expand-Label, Derive-Secret, the early, handshake and master secrets and the traffic
 * secrets derived from them, Finished keys (§4.4.4), traffic keys and IVs (§7.3), the next
 * application traffic secret (§7.2), exporters (§7.5) and resumption PSKs (§4.6.1).
 * Pure functions over node:crypto HMAC; no state beyond what {@link Tls13KeySchedule} holds.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Tls13Writer } from './tls13-bytes.js';

/** The hash of a cipher suite (RFC 8446 §B.4). */
export type Tls13Hash = 'sha256' | 'sha384';

/** A TLS 1.3 cipher suite (RFC 8446 §B.4) with the sizes the key schedule needs. */
export interface Tls13CipherSuite {
  /** The IANA code point, e.g. 0x1301. */
  readonly id: number;
  /** The IANA name, e.g. `TLS_AES_128_GCM_SHA256`. */
  readonly name: string;
  /** The HKDF / transcript hash. */
  readonly hash: Tls13Hash;
  /** Hash output length in bytes (32 or 48). */
  readonly hashLength: number;
  /** The node:crypto cipher name of the AEAD. */
  readonly aead: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  /** AEAD key length in bytes. */
  readonly keyLength: number;
  /** AEAD nonce (IV) length in bytes: 12 for every TLS 1.3 suite (RFC 8446 §5.3). */
  readonly ivLength: number;
}

export const TLS_AES_128_GCM_SHA256: Tls13CipherSuite = Object.freeze({
  id: 0x1301,
  name: 'TLS_AES_128_GCM_SHA256',
  hash: 'sha256',
  hashLength: 32,
  aead: 'aes-128-gcm',
  keyLength: 16,
  ivLength: 12,
});

export const TLS_AES_256_GCM_SHA384: Tls13CipherSuite = Object.freeze({
  id: 0x1302,
  name: 'TLS_AES_256_GCM_SHA384',
  hash: 'sha384',
  hashLength: 48,
  aead: 'aes-256-gcm',
  keyLength: 32,
  ivLength: 12,
});

export const TLS_CHACHA20_POLY1305_SHA256: Tls13CipherSuite = Object.freeze({
  id: 0x1303,
  name: 'TLS_CHACHA20_POLY1305_SHA256',
  hash: 'sha256',
  hashLength: 32,
  aead: 'chacha20-poly1305',
  keyLength: 32,
  ivLength: 12,
});

/** The suites this implementation knows, in its default order of preference. */
export const TLS13_CIPHER_SUITES: readonly Tls13CipherSuite[] = [
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  TLS_CHACHA20_POLY1305_SHA256,
];

/** The suite with IANA code point `id`, or undefined. */
export function cipherSuiteById(id: number): Tls13CipherSuite | undefined {
  return TLS13_CIPHER_SUITES.find((s) => s.id === id);
}

function hashLength(hash: Tls13Hash): number {
  return hash === 'sha256' ? 32 : 48;
}

/** Hash(data...) of the transcript (RFC 8446 §4.4.1), over concatenated handshake messages. */
export function transcriptHash(hash: Tls13Hash, ...messages: Uint8Array[]): Buffer {
  const h = createHash(hash);
  for (const m of messages) h.update(m);
  return h.digest();
}

/** HKDF-Extract(salt, IKM) (RFC 5869 §2.2); an empty salt means HashLen zeros. */
export function hkdfExtract(hash: Tls13Hash, salt: Uint8Array, ikm: Uint8Array): Buffer {
  const key = salt.length === 0 ? Buffer.alloc(hashLength(hash)) : salt;
  return createHmac(hash, key).update(ikm).digest();
}

/** HKDF-Expand(PRK, info, L) (RFC 5869 §2.3). */
export function hkdfExpand(hash: Tls13Hash, prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const n = hashLength(hash);
  if (length > 255 * n) throw new RangeError(`HKDF-Expand length ${length} exceeds 255 * ${n}`);
  const out = Buffer.allocUnsafe(length);
  let t: Buffer = Buffer.alloc(0);
  let filled = 0;
  for (let i = 1; filled < length; i++) {
    t = createHmac(hash, prk).update(t).update(info).update(Buffer.of(i)).digest();
    filled += t.copy(out, filled);
  }
  return out;
}

/** The HkdfLabel structure (RFC 8446 §7.1): length, "tls13 " + label, context. */
export function hkdfLabel(label: string, context: Uint8Array, length: number): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'latin1');
  if (fullLabel.length < 7 || fullLabel.length > 255) throw new RangeError(`HKDF label "${label}" length`);
  if (context.length > 255) throw new RangeError('HKDF label context exceeds 255 bytes');
  return new Tls13Writer().u16(length).vector(1, fullLabel).vector(1, context).finish();
}

/** HKDF-Expand-Label(Secret, Label, Context, Length) (RFC 8446 §7.1). */
export function hkdfExpandLabel(
  hash: Tls13Hash,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Buffer {
  return hkdfExpand(hash, secret, hkdfLabel(label, context, length), length);
}

/**
 * Derive-Secret(Secret, Label, Messages) (RFC 8446 §7.1), given the transcript hash of
 * Messages (see {@link transcriptHash}) rather than the messages.
 */
export function deriveSecret(
  hash: Tls13Hash,
  secret: Uint8Array,
  label: string,
  messagesHash: Uint8Array,
): Buffer {
  return hkdfExpandLabel(hash, secret, label, messagesHash, hashLength(hash));
}

/** The AEAD key and IV of one direction (RFC 8446 §7.3). */
export interface Tls13TrafficKeys {
  key: Buffer;
  iv: Buffer;
}

/**
 * [sender]_write_key and [sender]_write_iv from a traffic secret (RFC 8446 §7.3). QUIC uses the
 * same derivation with the labels "quic key" and "quic iv" (RFC 9001 §5.1); pass them as `labels`.
 */
export function trafficKeys(
  suite: Tls13CipherSuite,
  secret: Uint8Array,
  labels: { key: string; iv: string } = { key: 'key', iv: 'iv' },
): Tls13TrafficKeys {
  const empty = Buffer.alloc(0);
  return {
    key: hkdfExpandLabel(suite.hash, secret, labels.key, empty, suite.keyLength),
    iv: hkdfExpandLabel(suite.hash, secret, labels.iv, empty, suite.ivLength),
  };
}

/** finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length) (RFC 8446 §4.4.4). */
export function finishedKey(hash: Tls13Hash, baseKey: Uint8Array): Buffer {
  return hkdfExpandLabel(hash, baseKey, 'finished', Buffer.alloc(0), hashLength(hash));
}

/** verify_data = HMAC(finished_key, Transcript-Hash(...)) (RFC 8446 §4.4.4). */
export function finishedVerifyData(hash: Tls13Hash, baseKey: Uint8Array, transcript: Uint8Array): Buffer {
  return createHmac(hash, finishedKey(hash, baseKey)).update(transcript).digest();
}

/** Compares a received Finished verify_data in constant time. */
export function verifyFinished(
  hash: Tls13Hash,
  baseKey: Uint8Array,
  transcript: Uint8Array,
  received: Uint8Array,
): boolean {
  const expected = finishedVerifyData(hash, baseKey, transcript);
  return expected.length === received.length && timingSafeEqual(expected, received);
}

/** application_traffic_secret_N+1 (RFC 8446 §7.2), label "traffic upd". */
export function nextTrafficSecret(hash: Tls13Hash, secret: Uint8Array): Buffer {
  return hkdfExpandLabel(hash, secret, 'traffic upd', Buffer.alloc(0), hashLength(hash));
}

/**
 * TLS-Exporter(label, context_value, key_length) (RFC 8446 §7.5) from the exporter master
 * secret (or the early exporter master secret).
 */
export function exportKeyingMaterial(
  hash: Tls13Hash,
  exporterSecret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Buffer {
  const empty = transcriptHash(hash);
  const derived = deriveSecret(hash, exporterSecret, label, empty);
  return hkdfExpandLabel(hash, derived, 'exporter', transcriptHash(hash, context), length);
}

/** The PSK of a ticket: HKDF-Expand-Label(resumption_master_secret, "resumption", nonce) (§4.6.1). */
export function resumptionPsk(
  hash: Tls13Hash,
  resumptionMasterSecret: Uint8Array,
  ticketNonce: Uint8Array,
): Buffer {
  return hkdfExpandLabel(hash, resumptionMasterSecret, 'resumption', ticketNonce, hashLength(hash));
}

/** A client/server pair of traffic secrets. */
export interface Tls13SecretPair {
  client: Buffer;
  server: Buffer;
}

/**
 * The secret chain of RFC 8446 §7.1 for one connection: early secret, then handshake secret,
 * then master secret, each derived from the previous with "derived". The transcript hashes are
 * inputs (computed by the caller with {@link transcriptHash}), which keeps this a pure core.
 */
export class Tls13KeySchedule {
  readonly hash: Tls13Hash;
  readonly hashLength: number;
  /** Early Secret = HKDF-Extract(0, PSK or 0). */
  readonly earlySecret: Buffer;
  private handshake: Buffer | undefined;
  private master: Buffer | undefined;

  /** Starts the chain; `psk` is omitted for a full (EC)DHE handshake (zeros, RFC 8446 §7.1). */
  constructor(hash: Tls13Hash, psk?: Uint8Array) {
    this.hash = hash;
    this.hashLength = hashLength(hash);
    this.earlySecret = hkdfExtract(hash, Buffer.alloc(0), psk ?? Buffer.alloc(this.hashLength));
  }

  private get emptyHash(): Buffer {
    return transcriptHash(this.hash);
  }

  /** binder_key: "ext binder" or "res binder" (RFC 8446 §7.1). */
  binderKey(resumption: boolean): Buffer {
    return deriveSecret(
      this.hash,
      this.earlySecret,
      resumption ? 'res binder' : 'ext binder',
      this.emptyHash,
    );
  }

  /** client_early_traffic_secret over Hash(ClientHello). */
  clientEarlyTrafficSecret(clientHelloHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.earlySecret, 'c e traffic', clientHelloHash);
  }

  /** early_exporter_master_secret over Hash(ClientHello). */
  earlyExporterMasterSecret(clientHelloHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.earlySecret, 'e exp master', clientHelloHash);
  }

  /** Handshake Secret = HKDF-Extract(Derive-Secret(Early, "derived", ""), (EC)DHE). */
  deriveHandshakeSecret(sharedSecret: Uint8Array): Buffer {
    const salt = deriveSecret(this.hash, this.earlySecret, 'derived', this.emptyHash);
    this.handshake = hkdfExtract(this.hash, salt, sharedSecret);
    return this.handshake;
  }

  /** The handshake secret; throws before {@link deriveHandshakeSecret}. */
  get handshakeSecret(): Buffer {
    if (this.handshake === undefined) throw new Error('handshake secret not derived yet');
    return this.handshake;
  }

  /** [sender]_handshake_traffic_secret over Hash(ClientHello...ServerHello). */
  handshakeTrafficSecrets(helloHash: Uint8Array): Tls13SecretPair {
    return {
      client: deriveSecret(this.hash, this.handshakeSecret, 'c hs traffic', helloHash),
      server: deriveSecret(this.hash, this.handshakeSecret, 's hs traffic', helloHash),
    };
  }

  /** Master Secret = HKDF-Extract(Derive-Secret(Handshake, "derived", ""), 0). */
  deriveMasterSecret(): Buffer {
    const salt = deriveSecret(this.hash, this.handshakeSecret, 'derived', this.emptyHash);
    this.master = hkdfExtract(this.hash, salt, Buffer.alloc(this.hashLength));
    return this.master;
  }

  /** The master secret; throws before {@link deriveMasterSecret}. */
  get masterSecret(): Buffer {
    if (this.master === undefined) throw new Error('master secret not derived yet');
    return this.master;
  }

  /** [sender]_application_traffic_secret_0 over Hash(ClientHello...server Finished). */
  applicationTrafficSecrets(serverFinishedHash: Uint8Array): Tls13SecretPair {
    return {
      client: deriveSecret(this.hash, this.masterSecret, 'c ap traffic', serverFinishedHash),
      server: deriveSecret(this.hash, this.masterSecret, 's ap traffic', serverFinishedHash),
    };
  }

  /** exporter_master_secret over Hash(ClientHello...server Finished). */
  exporterMasterSecret(serverFinishedHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.masterSecret, 'exp master', serverFinishedHash);
  }

  /** resumption_master_secret over Hash(ClientHello...client Finished). */
  resumptionMasterSecret(clientFinishedHash: Uint8Array): Buffer {
    return deriveSecret(this.hash, this.masterSecret, 'res master', clientFinishedHash);
  }
}
