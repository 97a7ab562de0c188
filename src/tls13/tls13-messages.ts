/**
 * TLS 1.3 handshake messages (RFC 8446 §4): the Handshake framing (type + uint24 length), a
 * reassembler for messages split across CRYPTO frames (RFC 9001 §4.1.3), and encoders and
 * decoders for ClientHello, ServerHello / HelloRetryRequest, EncryptedExtensions, Certificate,
 * CertificateRequest, CertificateVerify, Finished, NewSessionTicket and KeyUpdate. Decoders
 * check every length and throw {@link Tls13Error} with decode_error or illegal_parameter.
 */
import { createHash } from 'node:crypto';
import { readU16List, Tls13Reader, Tls13Writer } from './tls13-bytes.js';
import { decodeError, illegalParameter, Tls13Alert, Tls13Error } from './tls13-error.js';
import {
  decodeExtensions,
  encodeExtensions,
  TLS12_LEGACY_VERSION,
  type Tls13Extension,
} from './tls13-extensions.js';

/** HandshakeType code points (RFC 8446 §4). */
export const Tls13HandshakeType = {
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  certificate_request: 13,
  certificate_verify: 15,
  finished: 20,
  key_update: 24,
  message_hash: 254,
} as const;

/** ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3). */
export const HELLO_RETRY_REQUEST_RANDOM: Buffer = createHash('sha256').update('HelloRetryRequest').digest();

/** One complete handshake message: its type, its body, and its full bytes (for the transcript). */
export interface Tls13HandshakeMessage {
  type: number;
  body: Buffer;
  /** Header and body, exactly as received: what goes into the transcript hash. */
  raw: Buffer;
}

/** Frames a body as a Handshake message: msg_type, uint24 length, body (RFC 8446 §4). */
export function encodeHandshake(type: number, body: Uint8Array): Buffer {
  return new Tls13Writer().u8(type).vector(3, body).finish();
}

/**
 * Reassembles handshake messages from a byte stream (one per encryption level in QUIC).
 * `maxMessageSize` bounds the buffered body (default 65536 bytes); a longer message is refused.
 */
export class Tls13HandshakeReassembler {
  private buffered: Buffer = Buffer.alloc(0);

  constructor(readonly maxMessageSize = 65536) {}

  /** Bytes received but not yet returned as a complete message. */
  get pendingBytes(): number {
    return this.buffered.length;
  }

  /** Appends bytes and returns every message now complete, in order. */
  push(bytes: Uint8Array): Tls13HandshakeMessage[] {
    this.buffered = this.buffered.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.buffered, bytes]);
    const out: Tls13HandshakeMessage[] = [];
    let offset = 0;
    while (this.buffered.length - offset >= 4) {
      const length = this.buffered.readUIntBE(offset + 1, 3);
      if (length > this.maxMessageSize) {
        throw new Tls13Error(
          'AVX_TLS13_MESSAGE_TOO_LARGE',
          Tls13Alert.unexpected_message,
          `handshake message of ${length} bytes exceeds the limit of ${this.maxMessageSize}`,
        );
      }
      if (this.buffered.length - offset < 4 + length) break;
      const raw = this.buffered.subarray(offset, offset + 4 + length);
      out.push({ type: raw[0]!, body: raw.subarray(4), raw });
      offset += 4 + length;
    }
    this.buffered = this.buffered.subarray(offset);
    return out;
  }
}

// --- ClientHello (§4.1.2) ---

export interface Tls13ClientHello {
  /** legacy_version: 0x0303 for TLS 1.3. */
  legacyVersion: number;
  random: Buffer;
  /** legacy_session_id <0..32>; empty over QUIC (RFC 9001 §8.4). */
  legacySessionId: Buffer;
  cipherSuites: number[];
  /** legacy_compression_methods: exactly [0] in TLS 1.3. */
  legacyCompressionMethods: Buffer;
  extensions: Tls13Extension[];
}

export function encodeClientHello(
  ch: Omit<Tls13ClientHello, 'legacyVersion' | 'legacyCompressionMethods'>,
): Buffer {
  if (ch.random.length !== 32) throw new RangeError('ClientHello.random must be 32 bytes');
  const suites = new Tls13Writer();
  for (const s of ch.cipherSuites) suites.u16(s);
  const body = new Tls13Writer()
    .u16(TLS12_LEGACY_VERSION)
    .bytes(ch.random)
    .vector(1, ch.legacySessionId, 32)
    .vector(2, suites.finish())
    .vector(1, Buffer.of(0))
    .vector(2, encodeExtensions(ch.extensions))
    .finish();
  return encodeHandshake(Tls13HandshakeType.client_hello, body);
}

export function decodeClientHello(body: Buffer): Tls13ClientHello {
  const r = new Tls13Reader(body, 'ClientHello');
  const legacyVersion = r.u16('legacy_version');
  const random = r.fixed(32, 'random');
  const legacySessionId = r.vector(1, 0, 32, 'legacy_session_id');
  const cipherSuites = readU16List(r.vector(2, 2, 0xfffe, 'cipher_suites'), 'ClientHello.cipher_suites');
  const legacyCompressionMethods = r.vector(1, 1, 255, 'legacy_compression_methods');
  // Extensions may be absent in a pre-TLS 1.2 hello; TLS 1.3 requires them (§4.1.2).
  const extensions =
    r.remaining === 0 ? [] : decodeExtensions(r.vector(2, 0, 0xffff, 'extensions'), 'ClientHello');
  r.end();
  return { legacyVersion, random, legacySessionId, cipherSuites, legacyCompressionMethods, extensions };
}

// --- ServerHello and HelloRetryRequest (§4.1.3, §4.1.4) ---

export interface Tls13ServerHello {
  legacyVersion: number;
  random: Buffer;
  legacySessionIdEcho: Buffer;
  cipherSuite: number;
  extensions: Tls13Extension[];
  /** True when `random` is the HelloRetryRequest value (RFC 8446 §4.1.3). */
  isHelloRetryRequest: boolean;
}

export function encodeServerHello(
  sh: Pick<Tls13ServerHello, 'random' | 'legacySessionIdEcho' | 'cipherSuite' | 'extensions'>,
): Buffer {
  if (sh.random.length !== 32) throw new RangeError('ServerHello.random must be 32 bytes');
  const body = new Tls13Writer()
    .u16(TLS12_LEGACY_VERSION)
    .bytes(sh.random)
    .vector(1, sh.legacySessionIdEcho, 32)
    .u16(sh.cipherSuite)
    .u8(0)
    .vector(2, encodeExtensions(sh.extensions))
    .finish();
  return encodeHandshake(Tls13HandshakeType.server_hello, body);
}

/** Encodes a HelloRetryRequest: a ServerHello whose random is {@link HELLO_RETRY_REQUEST_RANDOM}. */
export function encodeHelloRetryRequest(
  hrr: Pick<Tls13ServerHello, 'legacySessionIdEcho' | 'cipherSuite' | 'extensions'>,
): Buffer {
  return encodeServerHello({ ...hrr, random: HELLO_RETRY_REQUEST_RANDOM });
}

/** Decodes a ServerHello; legacy_compression_method other than 0 is illegal_parameter (§4.1.3). */
export function decodeServerHello(body: Buffer): Tls13ServerHello {
  const r = new Tls13Reader(body, 'ServerHello');
  const legacyVersion = r.u16('legacy_version');
  const random = r.fixed(32, 'random');
  const legacySessionIdEcho = r.vector(1, 0, 32, 'legacy_session_id_echo');
  const cipherSuite = r.u16('cipher_suite');
  const compression = r.u8('legacy_compression_method');
  const extensions =
    r.remaining === 0 ? [] : decodeExtensions(r.vector(2, 0, 0xffff, 'extensions'), 'ServerHello');
  r.end();
  if (compression !== 0) {
    throw illegalParameter(
      `ServerHello: legacy_compression_method ${compression} is not 0 (RFC 8446 §4.1.3)`,
    );
  }
  const isHelloRetryRequest = random.equals(HELLO_RETRY_REQUEST_RANDOM);
  return { legacyVersion, random, legacySessionIdEcho, cipherSuite, extensions, isHelloRetryRequest };
}

// --- EncryptedExtensions (§4.3.1) ---

export function encodeEncryptedExtensions(extensions: readonly Tls13Extension[]): Buffer {
  const body = new Tls13Writer().vector(2, encodeExtensions(extensions)).finish();
  return encodeHandshake(Tls13HandshakeType.encrypted_extensions, body);
}

export function decodeEncryptedExtensions(body: Buffer): Tls13Extension[] {
  const r = new Tls13Reader(body, 'EncryptedExtensions');
  const extensions = decodeExtensions(r.vector(2, 0, 0xffff, 'extensions'), 'EncryptedExtensions');
  r.end();
  return extensions;
}

// --- Certificate (§4.4.2) ---

export interface Tls13CertificateEntry {
  /** DER-encoded X.509 certificate (cert_data). */
  data: Buffer;
  extensions: Tls13Extension[];
}

export interface Tls13Certificate {
  /** certificate_request_context: empty in the server's Certificate. */
  context: Buffer;
  /** The sender's certificate first, then the certificates that certify it. */
  entries: Tls13CertificateEntry[];
}

export function encodeCertificate(cert: Tls13Certificate): Buffer {
  const body = new Tls13Writer()
    .vector(1, cert.context)
    .nested(3, (w) => {
      for (const e of cert.entries) w.vector(3, e.data).vector(2, encodeExtensions(e.extensions));
    })
    .finish();
  return encodeHandshake(Tls13HandshakeType.certificate, body);
}

export function decodeCertificate(body: Buffer): Tls13Certificate {
  const r = new Tls13Reader(body, 'Certificate');
  const context = r.vector(1, 0, 255, 'certificate_request_context');
  const list = new Tls13Reader(r.vector(3, 0, 0xffffff, 'certificate_list'), 'certificate_list');
  r.end();
  const entries: Tls13CertificateEntry[] = [];
  while (list.remaining > 0) {
    const data = list.vector(3, 1, 0xffffff, 'cert_data');
    const extensions = decodeExtensions(list.vector(2, 0, 0xffff, 'extensions'), 'CertificateEntry');
    entries.push({ data, extensions });
  }
  return { context, entries };
}

// --- CertificateRequest (§4.3.2) ---

export interface Tls13CertificateRequest {
  context: Buffer;
  extensions: Tls13Extension[];
}

export function encodeCertificateRequest(cr: Tls13CertificateRequest): Buffer {
  const body = new Tls13Writer().vector(1, cr.context).vector(2, encodeExtensions(cr.extensions)).finish();
  return encodeHandshake(Tls13HandshakeType.certificate_request, body);
}

export function decodeCertificateRequest(body: Buffer): Tls13CertificateRequest {
  const r = new Tls13Reader(body, 'CertificateRequest');
  const context = r.vector(1, 0, 255, 'certificate_request_context');
  const extensions = decodeExtensions(r.vector(2, 2, 0xffff, 'extensions'), 'CertificateRequest');
  r.end();
  return { context, extensions };
}

// --- CertificateVerify (§4.4.3) ---

export interface Tls13CertificateVerify {
  algorithm: number;
  signature: Buffer;
}

export function encodeCertificateVerify(cv: Tls13CertificateVerify): Buffer {
  const body = new Tls13Writer().u16(cv.algorithm).vector(2, cv.signature).finish();
  return encodeHandshake(Tls13HandshakeType.certificate_verify, body);
}

export function decodeCertificateVerify(body: Buffer): Tls13CertificateVerify {
  const r = new Tls13Reader(body, 'CertificateVerify');
  const algorithm = r.u16('algorithm');
  const signature = r.vector(2, 0, 0xffff, 'signature');
  r.end();
  return { algorithm, signature };
}

// --- Finished (§4.4.4) ---

export function encodeFinished(verifyData: Uint8Array): Buffer {
  return encodeHandshake(Tls13HandshakeType.finished, verifyData);
}

/** The verify_data; its length must be the suite's hash length (decode_error otherwise). */
export function decodeFinished(body: Buffer, hashLength: number): Buffer {
  if (body.length !== hashLength) {
    throw decodeError(`Finished: verify_data is ${body.length} bytes, not ${hashLength} (RFC 8446 §4.4.4)`);
  }
  return body;
}

// --- NewSessionTicket (§4.6.1) ---

export interface Tls13NewSessionTicket {
  /** ticket_lifetime in seconds; at most 604800 (7 days). */
  lifetime: number;
  ageAdd: number;
  nonce: Buffer;
  ticket: Buffer;
  extensions: Tls13Extension[];
}

export function encodeNewSessionTicket(t: Tls13NewSessionTicket): Buffer {
  const body = new Tls13Writer()
    .u32(t.lifetime)
    .u32(t.ageAdd)
    .vector(1, t.nonce)
    .vector(2, t.ticket)
    .vector(2, encodeExtensions(t.extensions))
    .finish();
  return encodeHandshake(Tls13HandshakeType.new_session_ticket, body);
}

export function decodeNewSessionTicket(body: Buffer): Tls13NewSessionTicket {
  const r = new Tls13Reader(body, 'NewSessionTicket');
  const lifetime = r.u32('ticket_lifetime');
  const ageAdd = r.u32('ticket_age_add');
  const nonce = r.vector(1, 0, 255, 'ticket_nonce');
  const ticket = r.vector(2, 1, 0xffff, 'ticket');
  const extensions = decodeExtensions(r.vector(2, 0, 0xfffe, 'extensions'), 'NewSessionTicket');
  r.end();
  if (lifetime > 604800) {
    throw illegalParameter(
      `NewSessionTicket: ticket_lifetime ${lifetime} exceeds 604800 s (RFC 8446 §4.6.1)`,
    );
  }
  return { lifetime, ageAdd, nonce, ticket, extensions };
}

// --- KeyUpdate (§4.6.3) ---

export function encodeKeyUpdate(requestUpdate: boolean): Buffer {
  return encodeHandshake(Tls13HandshakeType.key_update, Buffer.of(requestUpdate ? 1 : 0));
}

/** request_update: true for update_requested (1); values other than 0 or 1 are illegal_parameter. */
export function decodeKeyUpdate(body: Buffer): boolean {
  const r = new Tls13Reader(body, 'KeyUpdate');
  const v = r.u8('request_update');
  r.end();
  if (v > 1) throw illegalParameter(`KeyUpdate: request_update ${v} is neither 0 nor 1 (RFC 8446 §4.6.3)`);
  return v === 1;
}

/**
 * The synthetic message_hash message that replaces ClientHello1 in the transcript after a
 * HelloRetryRequest (RFC 8446 §4.4.1): type 254, length Hash.length, Hash(ClientHello1).
 */
export function messageHashMessage(clientHello1Hash: Uint8Array): Buffer {
  return encodeHandshake(Tls13HandshakeType.message_hash, clientHello1Hash);
}
