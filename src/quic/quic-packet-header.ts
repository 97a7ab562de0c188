/**
 * QUIC packet headers (RFC 9000 §17, RFC 8999 §5): reads the parts of a long or short header
 * that header protection leaves in the clear (version, connection ids, token, Length) and
 * writes unprotected headers; the packet number field and the low bits of the first byte are
 * protected (RFC 9001 §5.4) and are handled by `quic-packet-protection.ts`. Also the packet
 * number truncation and recovery of §17.1 (Appendix A.2 and A.3).
 *
 * A header that cannot be read is a reason to drop the packet, not to close the connection
 * (§5.2, §12.2): the errors are {@link QuicError} `AVX_QUIC_MALFORMED_PACKET` with
 * `isConnectionError` false. Datagrams may hold several coalesced long-header packets (§12.2):
 * `packetEnd` says where this one ends.
 */
import { QuicError, QuicTransportErrorCode } from './quic-error.js';
import { QUIC_MAX_CID_LENGTH } from './quic-frame-types.js';
import {
  readVarintBig,
  varintLength,
  varintLengthOf,
  writeVarint,
  writeVarintOfLength,
} from './quic-varint.js';

/** QUIC version 1 (RFC 9000 §15). */
export const QUIC_VERSION_1 = 0x00000001;
/** Bytes of the Retry Integrity Tag (RFC 9000 §17.2.5, RFC 9001 §5.8). */
export const QUIC_RETRY_TAG_LENGTH = 16;
/** The connection id length that the RFC 8999 invariants allow in long headers of any version. */
const INVARIANT_MAX_CID_LENGTH = 255;

/** Long header packet types of version 1 (RFC 9000 §17.2, Table 5). */
const LONG_TYPES = ['initial', '0rtt', 'handshake', 'retry'] as const;
/** A long header packet type of version 1. */
export type QuicLongPacketType = (typeof LONG_TYPES)[number];

/** Initial, 0-RTT or Handshake header (RFC 9000 §17.2.2, §17.2.3, §17.2.4). */
export interface QuicLongHeader {
  form: 'long';
  type: 'initial' | '0rtt' | 'handshake';
  version: number;
  /** The first byte as received: its low 4 bits are still header-protected. */
  firstByte: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** The Initial token (§17.2.2); empty for other types. */
  token: Uint8Array;
  /** Offset of the (protected) packet number field in the datagram. */
  pnOffset: number;
  /** Offset just after this packet: pnOffset + Length (§17.2). */
  packetEnd: number;
}

/** Retry (RFC 9000 §17.2.5). */
export interface QuicRetryHeader {
  form: 'long';
  type: 'retry';
  version: number;
  firstByte: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  /** Retry Token: everything between the SCID and the tag. */
  token: Uint8Array;
  integrityTag: Uint8Array;
  packetEnd: number;
}

/** Version Negotiation (RFC 9000 §17.2.1): version 0. */
export interface QuicVersionNegotiationHeader {
  form: 'long';
  type: 'version_negotiation';
  version: 0;
  dcid: Uint8Array;
  scid: Uint8Array;
  versions: number[];
  packetEnd: number;
}

/**
 * A long header of a version we do not know: only the RFC 8999 invariants (version and
 * connection ids of up to 255 bytes) can be read; a server answers with Version Negotiation.
 */
export interface QuicUnknownVersionHeader {
  form: 'long';
  type: 'unknown_version';
  version: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  packetEnd: number;
}

/** 1-RTT short header (RFC 9000 §17.3.1). */
export interface QuicShortHeader {
  form: 'short';
  type: '1rtt';
  firstByte: number;
  /** The latency spin bit (§17.4), not protected. */
  spin: boolean;
  dcid: Uint8Array;
  pnOffset: number;
  /** A short header packet runs to the end of the datagram. */
  packetEnd: number;
}

/** Any header {@link parseQuicPacketHeader} reads. */
export type QuicPacketHeader =
  | QuicLongHeader
  | QuicRetryHeader
  | QuicVersionNegotiationHeader
  | QuicUnknownVersionHeader
  | QuicShortHeader;

function malformed(message: string): never {
  throw new QuicError('AVX_QUIC_MALFORMED_PACKET', QuicTransportErrorCode.PROTOCOL_VIOLATION, message);
}

/**
 * The header of the packet at `offset` of `datagram`. `shortDcidLength` is the length of our
 * connection ids, which short headers do not carry (§17.3.1). Versions other than 1 are read
 * only as far as RFC 8999 allows. Throws {@link QuicError} (drop the packet) when the header is
 * cut short, has a zero fixed bit (§17.2, §17.3.1) or a v1 connection id over 20 bytes (§17.2).
 */
export function parseQuicPacketHeader(
  datagram: Uint8Array,
  offset: number,
  shortDcidLength: number,
): QuicPacketHeader {
  const end = datagram.length;
  if (offset >= end) malformed('empty packet');
  const first = datagram[offset]!;
  if ((first & 0x80) === 0) {
    // RFC 9000 §17.3.1: 0|1|S|R|R|K|P|P, Destination Connection ID, Packet Number, payload.
    if ((first & 0x40) === 0) malformed('fixed bit is zero (RFC 9000 §17.3.1)');
    const pnOffset = offset + 1 + shortDcidLength;
    if (pnOffset > end) malformed('short header cut short (RFC 9000 §17.3.1)');
    return {
      form: 'short',
      type: '1rtt',
      firstByte: first,
      spin: (first & 0x20) !== 0,
      dcid: datagram.subarray(offset + 1, pnOffset),
      pnOffset,
      packetEnd: end,
    };
  }
  // RFC 9000 §17.2 / RFC 8999 §5.1: 1|X|..., Version (32), DCID Len (8), DCID, SCID Len (8), SCID.
  if (end - offset < 7) malformed('long header cut short (RFC 9000 §17.2)');
  const version =
    ((datagram[offset + 1]! << 24) |
      (datagram[offset + 2]! << 16) |
      (datagram[offset + 3]! << 8) |
      datagram[offset + 4]!) >>>
    0;
  const maxCid = version === QUIC_VERSION_1 ? QUIC_MAX_CID_LENGTH : INVARIANT_MAX_CID_LENGTH;
  let p = offset + 5;
  const dcidLength = datagram[p++]!;
  if (dcidLength > maxCid) malformed(`destination connection id of ${dcidLength} bytes (RFC 9000 §17.2)`);
  if (p + dcidLength + 1 > end) malformed('long header cut short (RFC 9000 §17.2)');
  const dcid = datagram.subarray(p, p + dcidLength);
  p += dcidLength;
  const scidLength = datagram[p++]!;
  if (scidLength > maxCid) malformed(`source connection id of ${scidLength} bytes (RFC 9000 §17.2)`);
  if (p + scidLength > end) malformed('long header cut short (RFC 9000 §17.2)');
  const scid = datagram.subarray(p, p + scidLength);
  p += scidLength;

  if (version === 0) {
    // RFC 9000 §17.2.1: a list of 32-bit versions fills the rest of the datagram.
    if ((end - p) % 4 !== 0) malformed('version list is not a whole number of versions (RFC 9000 §17.2.1)');
    const versions: number[] = [];
    for (; p < end; p += 4) {
      versions.push(
        ((datagram[p]! << 24) | (datagram[p + 1]! << 16) | (datagram[p + 2]! << 8) | datagram[p + 3]!) >>> 0,
      );
    }
    return { form: 'long', type: 'version_negotiation', version: 0, dcid, scid, versions, packetEnd: end };
  }
  if (version !== QUIC_VERSION_1)
    return { form: 'long', type: 'unknown_version', version, dcid, scid, packetEnd: end };

  // RFC 9000 §17.2: "Packets containing a zero value for this bit are not valid packets in this
  // version and MUST be discarded."
  if ((first & 0x40) === 0) malformed('fixed bit is zero (RFC 9000 §17.2)');
  const type = LONG_TYPES[(first >> 4) & 0x03]!;
  if (type === 'retry') {
    // RFC 9000 §17.2.5: Retry Token, then a 128-bit Retry Integrity Tag, to the end.
    if (end - p < QUIC_RETRY_TAG_LENGTH)
      malformed('Retry packet without an integrity tag (RFC 9000 §17.2.5)');
    return {
      form: 'long',
      type,
      version,
      firstByte: first,
      dcid,
      scid,
      token: datagram.subarray(p, end - QUIC_RETRY_TAG_LENGTH),
      integrityTag: datagram.subarray(end - QUIC_RETRY_TAG_LENGTH, end),
      packetEnd: end,
    };
  }
  let token = datagram.subarray(p, p);
  if (type === 'initial') {
    // RFC 9000 §17.2.2: Token Length (i), Token.
    const tokenLength = readCheckedVarint(datagram, p, 'Token Length');
    p += varintLengthOf(datagram[p]!);
    if (tokenLength > end - p) malformed('Initial token runs past the datagram (RFC 9000 §17.2.2)');
    token = datagram.subarray(p, p + tokenLength);
    p += tokenLength;
  }
  // RFC 9000 §17.2.2-§17.2.4: Length (i) covers the packet number and the payload.
  const length = readCheckedVarint(datagram, p, 'Length');
  p += varintLengthOf(datagram[p]!);
  if (length > end - p) malformed('Length runs past the datagram (RFC 9000 §17.2)');
  return {
    form: 'long',
    type,
    version,
    firstByte: first,
    dcid,
    scid,
    token,
    pnOffset: p,
    packetEnd: p + length,
  };
}

function readCheckedVarint(buf: Uint8Array, offset: number, field: string): number {
  const value = readVarintBig(buf, offset);
  if (value < 0n) malformed(`${field} cut short (RFC 9000 §17.2)`);
  // A value above 2^53 - 1 is certainly longer than any datagram.
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) malformed(`${field} larger than any datagram`);
  return Number(value);
}

/** Fields of an Initial, 0-RTT or Handshake header to write. */
export interface QuicLongHeaderFields {
  type: 'initial' | '0rtt' | 'handshake';
  /** Default {@link QUIC_VERSION_1}. */
  version?: number;
  /** 0..20 bytes. */
  dcid: Uint8Array;
  /** 0..20 bytes. */
  scid: Uint8Array;
  /** Initial only; default empty. */
  token?: Uint8Array;
  /** The full packet number; its low `packetNumberLength` bytes are written. */
  packetNumber: number;
  /** 1..4 bytes (see {@link quicPacketNumberLength}). */
  packetNumberLength: 1 | 2 | 3 | 4;
  /** Bytes after the packet number: the protected payload including its AEAD tag. */
  payloadLength: number;
  /**
   * Bytes of the Length varint; default 2 (4 when Length is above 16383), so a packet may be
   * sized after its header is written. Must hold the value (RFC 9000 §16).
   */
  lengthFieldSize?: 1 | 2 | 4 | 8;
}

/** Fields of a 1-RTT short header to write (RFC 9000 §17.3.1). */
export interface QuicShortHeaderFields {
  dcid: Uint8Array;
  packetNumber: number;
  packetNumberLength: 1 | 2 | 3 | 4;
  /** The latency spin bit (§17.4); default false. */
  spin?: boolean;
  /** The key phase bit (§17.3.1, RFC 9001 §6); default false. */
  keyPhase?: boolean;
}

/**
 * Writes what follows a long header's first byte (RFC 9000 §17.2, RFC 8999 §5.1): the 32-bit
 * version, then the DCID and SCID each after its length byte. Returns the offset after them.
 */
function writeLongHeaderPrefix(out: Uint8Array, version: number, dcid: Uint8Array, scid: Uint8Array): number {
  out[1] = version >>> 24;
  out[2] = (version >>> 16) & 0xff;
  out[3] = (version >>> 8) & 0xff;
  out[4] = version & 0xff;
  let p = 5;
  out[p++] = dcid.length;
  out.set(dcid, p);
  p += dcid.length;
  out[p++] = scid.length;
  out.set(scid, p);
  return p + scid.length;
}

function writePacketNumber(buf: Uint8Array, offset: number, packetNumber: number, length: number): number {
  if (!Number.isSafeInteger(packetNumber) || packetNumber < 0)
    throw new RangeError(`bad packet number ${packetNumber}`);
  let v = packetNumber;
  for (let i = length - 1; i >= 0; i--) {
    buf[offset + i] = v % 256;
    v = Math.floor(v / 256);
  }
  return offset + length;
}

function checkCid(cid: Uint8Array, name: string): void {
  if (cid.length > QUIC_MAX_CID_LENGTH) throw new RangeError(`${name} longer than 20 bytes (RFC 9000 §17.2)`);
}

function checkPnLength(length: number): void {
  if (length !== 1 && length !== 2 && length !== 3 && length !== 4) {
    throw new RangeError(`packet number length ${length} is not 1..4 (RFC 9000 §17.1)`);
  }
}

/**
 * An unprotected Initial, 0-RTT or Handshake header (RFC 9000 §17.2.2-§17.2.4), ending with the
 * truncated packet number. Reserved bits are zero; the Packet Number Length bits are set.
 */
export function writeQuicLongHeader(fields: QuicLongHeaderFields): Uint8Array {
  checkCid(fields.dcid, 'DCID');
  checkCid(fields.scid, 'SCID');
  checkPnLength(fields.packetNumberLength);
  const token = fields.token ?? new Uint8Array(0);
  if (token.length > 0 && fields.type !== 'initial')
    throw new RangeError('only Initial packets carry a token');
  const length = fields.packetNumberLength + fields.payloadLength;
  const lengthSize = fields.lengthFieldSize ?? (length < 0x4000 ? 2 : 4);
  const tokenLengthSize = fields.type === 'initial' ? varintLength(token.length) : 0;
  const size =
    7 +
    fields.dcid.length +
    fields.scid.length +
    tokenLengthSize +
    token.length +
    lengthSize +
    fields.packetNumberLength;
  const out = new Uint8Array(size);
  const version = fields.version ?? QUIC_VERSION_1;
  out[0] = 0xc0 | (LONG_TYPES.indexOf(fields.type) << 4) | (fields.packetNumberLength - 1);
  let p = writeLongHeaderPrefix(out, version, fields.dcid, fields.scid);
  if (fields.type === 'initial') {
    p = writeVarint(out, p, token.length);
    out.set(token, p);
    p += token.length;
  }
  p = writeVarintOfLength(out, p, length, lengthSize);
  writePacketNumber(out, p, fields.packetNumber, fields.packetNumberLength);
  return out;
}

/** An unprotected 1-RTT short header (RFC 9000 §17.3.1), ending with the truncated packet number. */
export function writeQuicShortHeader(fields: QuicShortHeaderFields): Uint8Array {
  checkCid(fields.dcid, 'DCID');
  checkPnLength(fields.packetNumberLength);
  const out = new Uint8Array(1 + fields.dcid.length + fields.packetNumberLength);
  out[0] = 0x40 | (fields.spin ? 0x20 : 0) | (fields.keyPhase ? 0x04 : 0) | (fields.packetNumberLength - 1);
  out.set(fields.dcid, 1);
  writePacketNumber(out, 1 + fields.dcid.length, fields.packetNumber, fields.packetNumberLength);
  return out;
}

/**
 * A Retry packet without its integrity tag (RFC 9000 §17.2.5); `quic-packet-protection.ts`
 * computes the tag. `unused` fills the four Unused bits (default 0).
 */
export function writeQuicRetryWithoutTag(fields: {
  version?: number;
  dcid: Uint8Array;
  scid: Uint8Array;
  token: Uint8Array;
  unused?: number;
}): Uint8Array {
  checkCid(fields.dcid, 'DCID');
  checkCid(fields.scid, 'SCID');
  const version = fields.version ?? QUIC_VERSION_1;
  const out = new Uint8Array(7 + fields.dcid.length + fields.scid.length + fields.token.length);
  out[0] = 0xf0 | ((fields.unused ?? 0) & 0x0f);
  const p = writeLongHeaderPrefix(out, version, fields.dcid, fields.scid);
  out.set(fields.token, p);
  return out;
}

/**
 * A Version Negotiation packet (RFC 9000 §17.2.1). `unused` fills the seven Unused bits; the
 * default 0x40 sets the bit where other versions keep the fixed bit, as §17.2.1 advises.
 */
export function writeQuicVersionNegotiation(fields: {
  dcid: Uint8Array;
  scid: Uint8Array;
  versions: readonly number[];
  unused?: number;
}): Uint8Array {
  if (fields.dcid.length > INVARIANT_MAX_CID_LENGTH || fields.scid.length > INVARIANT_MAX_CID_LENGTH) {
    throw new RangeError('connection id longer than 255 bytes (RFC 8999 §5.1)');
  }
  const out = new Uint8Array(7 + fields.dcid.length + fields.scid.length + 4 * fields.versions.length);
  out[0] = 0x80 | ((fields.unused ?? 0x40) & 0x7f);
  let p = writeLongHeaderPrefix(out, 0, fields.dcid, fields.scid); // §17.2.1: version 0
  for (const v of fields.versions) {
    out[p++] = v >>> 24;
    out[p++] = (v >>> 16) & 0xff;
    out[p++] = (v >>> 8) & 0xff;
    out[p++] = v & 0xff;
  }
  return out;
}

/**
 * Bytes to encode `packetNumber` with (RFC 9000 §17.1, Appendix A.2): enough to represent more
 * than twice the packets in flight since `largestAcked` (-1 when nothing was acknowledged yet).
 * Throws RangeError when even 4 bytes cannot (more than 2^31 packets unacknowledged).
 */
export function quicPacketNumberLength(packetNumber: number, largestAcked: number): 1 | 2 | 3 | 4 {
  const unacked = largestAcked < 0 ? packetNumber + 1 : packetNumber - largestAcked;
  if (!(unacked >= 1)) throw new RangeError(`packet number ${packetNumber} is not above ${largestAcked}`);
  // A.2: min_bits = log2(num_unacked) + 1, num_bytes = ceil(min_bits / 8); that is the
  // smallest n with num_unacked <= 2^(8n - 1).
  for (const n of [1, 2, 3, 4] as const) if (unacked <= 2 ** (8 * n - 1)) return n;
  throw new RangeError(`${unacked} packets in flight cannot be encoded (RFC 9000 §17.1)`);
}

/**
 * The full packet number from its truncated form (RFC 9000 §17.1, Appendix A.3): the value
 * closest to `largestReceived + 1` whose low `length` bytes are `truncated`. `largestReceived`
 * is -1 when no packet was processed yet in this packet number space.
 */
export function decodeQuicPacketNumber(
  largestReceived: number,
  truncated: number,
  length: 1 | 2 | 3 | 4,
): number {
  const expected = largestReceived + 1;
  const win = 2 ** (8 * length);
  const halfWin = win / 2;
  // (expected & ~mask) | truncated, without 32-bit bitwise operators.
  const candidate = expected - (expected % win) + truncated;
  if (candidate <= expected - halfWin && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + halfWin && candidate >= win) return candidate - win;
  return candidate;
}
