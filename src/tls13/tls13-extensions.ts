/**
 * TLS 1.3 extensions (RFC 8446 §4.2) as raw `{ type, data }` blocks plus typed encoders and
 * decoders for the ones a QUIC handshake needs: server_name (RFC 6066 §3), supported_groups
 * (§4.2.7), signature_algorithms (§4.2.3), ALPN (RFC 7301 §3.1), supported_versions (§4.2.1),
 * cookie (§4.2.2), psk_key_exchange_modes (§4.2.9), key_share (§4.2.8) and
 * quic_transport_parameters (RFC 9001 §8.2, carried as opaque bytes).
 */
import { readU16List, Tls13Reader, Tls13Writer } from './tls13-bytes.js';
import { decodeError, illegalParameter } from './tls13-error.js';

/** ExtensionType code points (RFC 8446 §4.2, RFC 7301, RFC 9001 §8.2). */
export const Tls13ExtensionType = {
  server_name: 0,
  supported_groups: 10,
  signature_algorithms: 13,
  application_layer_protocol_negotiation: 16,
  record_size_limit: 28,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  certificate_authorities: 47,
  oid_filters: 48,
  post_handshake_auth: 49,
  signature_algorithms_cert: 50,
  key_share: 51,
  quic_transport_parameters: 57,
} as const;

/** NamedGroup code points (RFC 8446 §4.2.7) that this core can compute. */
export const Tls13NamedGroup = {
  secp256r1: 0x0017,
  secp384r1: 0x0018,
  x25519: 0x001d,
} as const;

/** SignatureScheme code points (RFC 8446 §4.2.3). */
export const Tls13SignatureScheme = {
  rsa_pkcs1_sha256: 0x0401,
  rsa_pkcs1_sha384: 0x0501,
  rsa_pkcs1_sha512: 0x0601,
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  ecdsa_secp521r1_sha512: 0x0603,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
  ed448: 0x0808,
  rsa_pss_pss_sha256: 0x0809,
  rsa_pss_pss_sha384: 0x080a,
  rsa_pss_pss_sha512: 0x080b,
} as const;

/** ProtocolVersion of TLS 1.3 (RFC 8446 §4.2.1). */
export const TLS13_VERSION = 0x0304;
/** legacy_version of every TLS 1.3 ClientHello / ServerHello (RFC 8446 §4.1.2, §4.1.3). */
export const TLS12_LEGACY_VERSION = 0x0303;

/** One extension as carried: its type and its undecoded `extension_data`. */
export interface Tls13Extension {
  type: number;
  data: Buffer;
}

/** One KeyShareEntry (RFC 8446 §4.2.8). */
export interface Tls13KeyShareEntry {
  group: number;
  keyExchange: Buffer;
}

/**
 * Reads an `Extension extensions<min..2^16-1>` block. A type seen twice is a decode_error
 * (RFC 8446 §4.2: "There MUST NOT be more than one extension of the same type").
 */
export function decodeExtensions(block: Buffer, what: string): Tls13Extension[] {
  const r = new Tls13Reader(block, what);
  const out: Tls13Extension[] = [];
  const seen = new Set<number>();
  while (r.remaining > 0) {
    const type = r.u16('extension_type');
    const data = r.vector(2, 0, 0xffff, 'extension_data');
    if (seen.has(type)) throw decodeError(`${what}: extension ${type} appears twice (RFC 8446 §4.2)`);
    seen.add(type);
    out.push({ type, data });
  }
  return out;
}

/** Writes an extensions block (without its outer length; see the message encoders). */
export function encodeExtensions(extensions: readonly Tls13Extension[]): Buffer {
  const w = new Tls13Writer();
  for (const e of extensions) w.u16(e.type).vector(2, e.data);
  return w.finish();
}

/** The data of extension `type`, or undefined. */
export function findExtension(extensions: readonly Tls13Extension[], type: number): Buffer | undefined {
  for (const e of extensions) if (e.type === type) return e.data;
  return undefined;
}

function u16List(values: readonly number[]): Buffer {
  const w = new Tls13Writer();
  for (const v of values) w.u16(v);
  return w.finish();
}

// --- server_name (RFC 6066 §3) ---

/** server_name in a ClientHello: one host_name. */
export function encodeServerName(hostname: string): Buffer {
  const entry = new Tls13Writer().u8(0).vector(2, Buffer.from(hostname, 'ascii')).finish();
  return new Tls13Writer().vector(2, entry).finish();
}

/** The host_name of a ClientHello server_name; an empty extension (EE / SH echo) gives undefined. */
export function decodeServerName(data: Buffer): string | undefined {
  if (data.length === 0) return undefined;
  const r = new Tls13Reader(data, 'server_name');
  const list = new Tls13Reader(r.vector(2, 1, 0xffff, 'server_name_list'), 'server_name_list');
  r.end();
  let host: string | undefined;
  while (list.remaining > 0) {
    const type = list.u8('name_type');
    const name = list.vector(2, 1, 0xffff, 'HostName');
    if (type !== 0) continue;
    if (host !== undefined) throw illegalParameter('server_name: more than one host_name (RFC 6066 §3)');
    for (const b of name) {
      if (b < 0x21 || b > 0x7e)
        throw decodeError('server_name: host_name is not printable ASCII (RFC 6066 §3)');
    }
    host = name.toString('ascii');
  }
  return host;
}

// --- supported_groups, signature_algorithms ---

export function encodeNamedGroupList(groups: readonly number[]): Buffer {
  return new Tls13Writer().vector(2, u16List(groups)).finish();
}

export function decodeNamedGroupList(data: Buffer): number[] {
  const r = new Tls13Reader(data, 'supported_groups');
  const list = r.vector(2, 2, 0xffff, 'named_group_list');
  r.end();
  return readU16List(list, 'supported_groups');
}

export function encodeSignatureSchemeList(schemes: readonly number[]): Buffer {
  return new Tls13Writer().vector(2, u16List(schemes)).finish();
}

export function decodeSignatureSchemeList(data: Buffer): number[] {
  const r = new Tls13Reader(data, 'signature_algorithms');
  const list = r.vector(2, 2, 0xfffe, 'supported_signature_algorithms');
  r.end();
  return readU16List(list, 'signature_algorithms');
}

// --- ALPN (RFC 7301 §3.1) ---

export function encodeAlpn(protocols: readonly string[]): Buffer {
  const w = new Tls13Writer();
  for (const p of protocols) {
    const b = Buffer.from(p, 'latin1');
    if (b.length === 0 || b.length > 255)
      throw new RangeError(`ALPN protocol name "${p}" must be 1..255 bytes`);
    w.vector(1, b);
  }
  return new Tls13Writer().vector(2, w.finish()).finish();
}

/** The ProtocolNameList; empty names are a decode_error (RFC 7301 §3.1). */
export function decodeAlpn(data: Buffer): string[] {
  const r = new Tls13Reader(data, 'application_layer_protocol_negotiation');
  const list = new Tls13Reader(r.vector(2, 2, 0xffff, 'protocol_name_list'), 'protocol_name_list');
  r.end();
  const out: string[] = [];
  while (list.remaining > 0) out.push(list.vector(1, 1, 255, 'ProtocolName').toString('latin1'));
  return out;
}

// --- supported_versions (§4.2.1) ---

export function encodeSupportedVersionsClient(versions: readonly number[]): Buffer {
  return new Tls13Writer().vector(1, u16List(versions)).finish();
}

export function decodeSupportedVersionsClient(data: Buffer): number[] {
  const r = new Tls13Reader(data, 'supported_versions');
  const list = r.vector(1, 2, 254, 'versions');
  r.end();
  return readU16List(list, 'supported_versions');
}

export function encodeSupportedVersionsServer(version: number): Buffer {
  return new Tls13Writer().u16(version).finish();
}

export function decodeSupportedVersionsServer(data: Buffer): number {
  const r = new Tls13Reader(data, 'supported_versions');
  const v = r.u16('selected_version');
  r.end();
  return v;
}

// --- cookie (§4.2.2), psk_key_exchange_modes (§4.2.9) ---

export function encodeCookie(cookie: Uint8Array): Buffer {
  return new Tls13Writer().vector(2, cookie).finish();
}

export function decodeCookie(data: Buffer): Buffer {
  const r = new Tls13Reader(data, 'cookie');
  const c = r.vector(2, 1, 0xffff, 'cookie');
  r.end();
  return c;
}

export function encodePskKeyExchangeModes(modes: readonly number[]): Buffer {
  return new Tls13Writer().vector(1, Buffer.from(modes)).finish();
}

export function decodePskKeyExchangeModes(data: Buffer): number[] {
  const r = new Tls13Reader(data, 'psk_key_exchange_modes');
  const modes = r.vector(1, 1, 255, 'ke_modes');
  r.end();
  return [...modes];
}

// --- key_share (§4.2.8) ---

function writeKeyShareEntry(w: Tls13Writer, e: Tls13KeyShareEntry): void {
  w.u16(e.group).vector(2, e.keyExchange);
}

function readKeyShareEntry(r: Tls13Reader): Tls13KeyShareEntry {
  const group = r.u16('group');
  const keyExchange = r.vector(2, 1, 0xffff, 'key_exchange');
  return { group, keyExchange };
}

/** KeyShareClientHello: client_shares, each group at most once (illegal_parameter). */
export function encodeKeyShareClient(shares: readonly Tls13KeyShareEntry[]): Buffer {
  return new Tls13Writer()
    .nested(2, (w) => {
      for (const s of shares) writeKeyShareEntry(w, s);
    })
    .finish();
}

export function decodeKeyShareClient(data: Buffer): Tls13KeyShareEntry[] {
  const r = new Tls13Reader(data, 'key_share');
  const list = new Tls13Reader(r.vector(2, 0, 0xffff, 'client_shares'), 'client_shares');
  r.end();
  const out: Tls13KeyShareEntry[] = [];
  while (list.remaining > 0) {
    const e = readKeyShareEntry(list);
    if (out.some((o) => o.group === e.group)) {
      throw illegalParameter(`key_share: group ${e.group} offered twice (RFC 8446 §4.2.8)`);
    }
    out.push(e);
  }
  return out;
}

/** KeyShareServerHello: one server_share. */
export function encodeKeyShareServer(share: Tls13KeyShareEntry): Buffer {
  const w = new Tls13Writer();
  writeKeyShareEntry(w, share);
  return w.finish();
}

export function decodeKeyShareServer(data: Buffer): Tls13KeyShareEntry {
  const r = new Tls13Reader(data, 'key_share');
  const e = readKeyShareEntry(r);
  r.end();
  return e;
}

/** KeyShareHelloRetryRequest: selected_group. */
export function encodeKeyShareHelloRetryRequest(group: number): Buffer {
  return new Tls13Writer().u16(group).finish();
}

export function decodeKeyShareHelloRetryRequest(data: Buffer): number {
  const r = new Tls13Reader(data, 'key_share');
  const g = r.u16('selected_group');
  r.end();
  return g;
}
