/**
 * HTTP/3 SETTINGS (RFC 9114 §7.2.4): the parameters each endpoint announces once, first on
 * its control stream. Known here: SETTINGS_MAX_FIELD_SECTION_SIZE (§7.2.4.1, §4.2.2),
 * SETTINGS_QPACK_MAX_TABLE_CAPACITY and SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5) and
 * SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220 §3). Unknown and greasing identifiers are
 * ignored (§7.2.4.1, §9); the HTTP/2 identifiers 0x00 and 0x02 to 0x05 and a repeated
 * identifier are H3_SETTINGS_ERROR (§7.2.4.1); a truncated pair is H3_FRAME_ERROR (§7.1).
 */
import { Buffer } from 'node:buffer';
import { readVarintBig, varintLength, varintLengthOf, writeVarint } from '../quic/quic-varint.js';
import { H3Error, H3ErrorCode } from './h3-error.js';
import { H3FrameType } from './h3-frame-types.js';
import { encodeFrame } from './h3-frame-writer.js';

/** RFC 9114 §7.2.4.1, §11.2.2, RFC 9204 §5, RFC 9220 §3: setting identifiers. */
export const H3SettingId = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
  ENABLE_CONNECT_PROTOCOL: 0x08,
} as const;

/** The settings of one endpoint. Values above 2^53 - 1 read as Number.MAX_SAFE_INTEGER. */
export interface H3Settings {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY, octets. Default 0 (RFC 9204 §5). */
  qpackMaxTableCapacity: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS. Default 0 (RFC 9204 §5). */
  qpackBlockedStreams: number;
  /** SETTINGS_MAX_FIELD_SECTION_SIZE, octets (§4.2.2). Default unlimited: Infinity. */
  maxFieldSectionSize: number;
  /** SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 9220 §3). Default false. */
  enableConnectProtocol: boolean;
  /** Other identifiers received, in order (greasing included); ignored by this layer. */
  unknown: [id: number, value: number][];
}

/** RFC 9114 §7.2.4.2: the values in force before the peer's SETTINGS arrive. */
export function defaultH3Settings(): H3Settings {
  return {
    qpackMaxTableCapacity: 0,
    qpackBlockedStreams: 0,
    maxFieldSectionSize: Number.POSITIVE_INFINITY,
    enableConnectProtocol: false,
    unknown: [],
  };
}

/** RFC 9114 §7.2.4.1: identifiers reserved because HTTP/2 used them. */
function isReservedH2Setting(id: number): boolean {
  return id === 0x00 || (id >= 0x02 && id <= 0x05);
}

/**
 * The payload of a SETTINGS frame: the identifiers that differ from their defaults, in
 * identifier order, then `extra` pairs (for greasing, §7.2.4.1) as given.
 */
export function encodeSettingsPayload(
  settings: Partial<Omit<H3Settings, 'unknown'>>,
  extra: readonly (readonly [number, number])[] = [],
): Buffer {
  const pairs: [number, number][] = [];
  if (settings.qpackMaxTableCapacity)
    pairs.push([H3SettingId.QPACK_MAX_TABLE_CAPACITY, settings.qpackMaxTableCapacity]);
  if (settings.maxFieldSectionSize !== undefined && Number.isFinite(settings.maxFieldSectionSize)) {
    pairs.push([H3SettingId.MAX_FIELD_SECTION_SIZE, settings.maxFieldSectionSize]);
  }
  if (settings.qpackBlockedStreams)
    pairs.push([H3SettingId.QPACK_BLOCKED_STREAMS, settings.qpackBlockedStreams]);
  if (settings.enableConnectProtocol) pairs.push([H3SettingId.ENABLE_CONNECT_PROTOCOL, 1]);
  for (const [id, value] of extra) pairs.push([id, value]);
  let size = 0;
  for (const [id, value] of pairs) size += varintLength(id) + varintLength(value);
  const out = Buffer.allocUnsafe(size);
  let offset = 0;
  for (const [id, value] of pairs) offset = writeVarint(out, writeVarint(out, offset, id), value);
  return out;
}

/** A whole SETTINGS frame (RFC 9114 §7.2.4). */
export function encodeSettingsFrame(
  settings: Partial<Omit<H3Settings, 'unknown'>>,
  extra: readonly (readonly [number, number])[] = [],
): Buffer {
  return encodeFrame(H3FrameType.SETTINGS, encodeSettingsPayload(settings, extra));
}

function readNumber(payload: Uint8Array, offset: number): number {
  const value = readVarintBig(payload, offset);
  if (value < 0n) {
    throw H3Error.connection(
      H3ErrorCode.H3_FRAME_ERROR,
      'SETTINGS frame ends inside a setting (RFC 9114 §7.1)',
    );
  }
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** Decodes a SETTINGS payload (RFC 9114 §7.2.4.1). Throws {@link H3Error} (connection). */
export function decodeSettingsPayload(payload: Uint8Array): H3Settings {
  const settings = defaultH3Settings();
  const seen = new Set<number>();
  let offset = 0;
  while (offset < payload.length) {
    const id = readNumber(payload, offset);
    offset += varintLengthOf(payload[offset]!);
    const value = readNumber(payload, offset);
    offset += varintLengthOf(payload[offset]!);
    if (isReservedH2Setting(id)) {
      throw H3Error.connection(
        H3ErrorCode.H3_SETTINGS_ERROR,
        `setting identifier 0x${id.toString(16)} is reserved from HTTP/2 (RFC 9114 §7.2.4.1)`,
      );
    }
    if (seen.has(id)) {
      throw H3Error.connection(
        H3ErrorCode.H3_SETTINGS_ERROR,
        `setting identifier 0x${id.toString(16)} appears twice (RFC 9114 §7.2.4)`,
      );
    }
    seen.add(id);
    switch (id) {
      case H3SettingId.QPACK_MAX_TABLE_CAPACITY:
        settings.qpackMaxTableCapacity = value;
        break;
      case H3SettingId.MAX_FIELD_SECTION_SIZE:
        settings.maxFieldSectionSize = value;
        break;
      case H3SettingId.QPACK_BLOCKED_STREAMS:
        settings.qpackBlockedStreams = value;
        break;
      case H3SettingId.ENABLE_CONNECT_PROTOCOL:
        // RFC 9220 §3: only 0 or 1.
        if (value > 1) {
          throw H3Error.connection(
            H3ErrorCode.H3_SETTINGS_ERROR,
            'SETTINGS_ENABLE_CONNECT_PROTOCOL other than 0 or 1 (RFC 9220 §3)',
          );
        }
        settings.enableConnectProtocol = value === 1;
        break;
      default:
        settings.unknown.push([id, value]);
    }
  }
  return settings;
}
