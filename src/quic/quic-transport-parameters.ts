/**
 * QUIC transport parameters (RFC 9000 §18, §7.4): the quic_transport_parameters TLS extension
 * body (RFC 9001 §8.2) as a typed object, its encoding and a decoder that applies the defaults
 * of §18.2 and checks every rule there. A broken rule is a {@link QuicError} with the
 * TRANSPORT_PARAMETER_ERROR code (§7.4, §18.2); unknown (and greased, §18.1) ids are ignored.
 */
import { QuicError, QuicTransportErrorCode } from './quic-error.js';
import {
  QUIC_MAX_CID_LENGTH,
  QUIC_MAX_STREAMS,
  QUIC_STATELESS_RESET_TOKEN_LENGTH,
} from './quic-frame-types.js';
import { readVarintBig, varintLength, varintLengthOf, writeVarint } from './quic-varint.js';

/** Transport parameter ids (RFC 9000 §18.2, Table 6 of §22.3). */
export const QuicTransportParameterId = {
  original_destination_connection_id: 0x00,
  max_idle_timeout: 0x01,
  stateless_reset_token: 0x02,
  max_udp_payload_size: 0x03,
  initial_max_data: 0x04,
  initial_max_stream_data_bidi_local: 0x05,
  initial_max_stream_data_bidi_remote: 0x06,
  initial_max_stream_data_uni: 0x07,
  initial_max_streams_bidi: 0x08,
  initial_max_streams_uni: 0x09,
  ack_delay_exponent: 0x0a,
  max_ack_delay: 0x0b,
  disable_active_migration: 0x0c,
  preferred_address: 0x0d,
  active_connection_id_limit: 0x0e,
  initial_source_connection_id: 0x0f,
  retry_source_connection_id: 0x10,
} as const;

const P = QuicTransportParameterId;

/**
 * The transport parameters of one endpoint (RFC 9000 §18.2). Numeric fields hold the default
 * of §18.2 when the parameter is absent; connection ids and tokens are undefined when absent.
 */
export interface QuicTransportParameters {
  /** Server only: the DCID of the client's first Initial (§7.3). */
  originalDestinationConnectionId?: Uint8Array;
  /** Milliseconds; 0 (default) means no idle timeout from this endpoint (§10.1). */
  maxIdleTimeout: number;
  /** Server only: 16 bytes (§10.3). */
  statelessResetToken?: Uint8Array;
  /** Bytes, at least 1200; default 65527. */
  maxUdpPayloadSize: number;
  /** Bytes of stream data the peer may send on the connection; default 0. */
  initialMaxData: number;
  /** Bytes on a bidirectional stream this endpoint opened; default 0. */
  initialMaxStreamDataBidiLocal: number;
  /** Bytes on a bidirectional stream the peer opened; default 0. */
  initialMaxStreamDataBidiRemote: number;
  /** Bytes on a unidirectional stream the peer opened; default 0. */
  initialMaxStreamDataUni: number;
  /** Bidirectional streams the peer may open; default 0, at most 2^60. */
  initialMaxStreamsBidi: number;
  /** Unidirectional streams the peer may open; default 0, at most 2^60. */
  initialMaxStreamsUni: number;
  /** Exponent of the ACK Delay field; default 3, at most 20. */
  ackDelayExponent: number;
  /** Milliseconds; default 25, below 2^14. */
  maxAckDelay: number;
  /** Default false. */
  disableActiveMigration: boolean;
  /** Server only: the undecoded Preferred Address structure (§18.2). */
  preferredAddress?: Uint8Array;
  /** Default 2, at least 2. */
  activeConnectionIdLimit: number;
  /** The SCID of the first Initial this endpoint sent (§7.3). Required in v1. */
  initialSourceConnectionId?: Uint8Array;
  /** Server only, after a Retry: the SCID of the Retry (§7.3). */
  retrySourceConnectionId?: Uint8Array;
}

/** The parameters with every §18.2 default and no connection ids. */
export function defaultQuicTransportParameters(): QuicTransportParameters {
  return {
    maxIdleTimeout: 0,
    maxUdpPayloadSize: 65527,
    initialMaxData: 0,
    initialMaxStreamDataBidiLocal: 0,
    initialMaxStreamDataBidiRemote: 0,
    initialMaxStreamDataUni: 0,
    initialMaxStreamsBidi: 0,
    initialMaxStreamsUni: 0,
    ackDelayExponent: 3,
    maxAckDelay: 25,
    disableActiveMigration: false,
    activeConnectionIdLimit: 2,
  };
}

function tpError(message: string): QuicError {
  return new QuicError(
    'AVX_QUIC_PROTOCOL_VIOLATION',
    QuicTransportErrorCode.TRANSPORT_PARAMETER_ERROR,
    message,
  );
}

const INTEGER_FIELDS: readonly [number, keyof QuicTransportParameters][] = [
  [P.max_idle_timeout, 'maxIdleTimeout'],
  [P.max_udp_payload_size, 'maxUdpPayloadSize'],
  [P.initial_max_data, 'initialMaxData'],
  [P.initial_max_stream_data_bidi_local, 'initialMaxStreamDataBidiLocal'],
  [P.initial_max_stream_data_bidi_remote, 'initialMaxStreamDataBidiRemote'],
  [P.initial_max_stream_data_uni, 'initialMaxStreamDataUni'],
  [P.initial_max_streams_bidi, 'initialMaxStreamsBidi'],
  [P.initial_max_streams_uni, 'initialMaxStreamsUni'],
  [P.ack_delay_exponent, 'ackDelayExponent'],
  [P.max_ack_delay, 'maxAckDelay'],
  [P.active_connection_id_limit, 'activeConnectionIdLimit'],
];

const BYTES_FIELDS: readonly [number, keyof QuicTransportParameters][] = [
  [P.original_destination_connection_id, 'originalDestinationConnectionId'],
  [P.stateless_reset_token, 'statelessResetToken'],
  [P.preferred_address, 'preferredAddress'],
  [P.initial_source_connection_id, 'initialSourceConnectionId'],
  [P.retry_source_connection_id, 'retrySourceConnectionId'],
];

/** Ids only a server may send (RFC 9000 §18.2). */
const SERVER_ONLY: readonly number[] = [
  P.original_destination_connection_id,
  P.stateless_reset_token,
  P.preferred_address,
  P.retry_source_connection_id,
];

/**
 * Checks the §18.2 rules on values (ranges, lengths) that both the encoder and the decoder
 * enforce. Throws {@link QuicError} TRANSPORT_PARAMETER_ERROR.
 */
function validate(tp: QuicTransportParameters): void {
  if (tp.ackDelayExponent > 20) throw tpError('ack_delay_exponent above 20 (RFC 9000 §18.2)');
  if (tp.maxAckDelay >= 2 ** 14) throw tpError('max_ack_delay of 2^14 or more (RFC 9000 §18.2)');
  if (tp.activeConnectionIdLimit < 2) throw tpError('active_connection_id_limit below 2 (RFC 9000 §18.2)');
  if (tp.initialMaxStreamsBidi > QUIC_MAX_STREAMS || tp.initialMaxStreamsUni > QUIC_MAX_STREAMS) {
    throw tpError('initial_max_streams above 2^60 (RFC 9000 §4.6, §18.2)');
  }
  if (tp.maxUdpPayloadSize < 1200) throw tpError('max_udp_payload_size below 1200 (RFC 9000 §18.2)');
  if (
    tp.statelessResetToken !== undefined &&
    tp.statelessResetToken.length !== QUIC_STATELESS_RESET_TOKEN_LENGTH
  ) {
    throw tpError('stateless_reset_token is not 16 bytes (RFC 9000 §18.2)');
  }
  for (const cid of [
    tp.originalDestinationConnectionId,
    tp.initialSourceConnectionId,
    tp.retrySourceConnectionId,
  ]) {
    if (cid !== undefined && cid.length > QUIC_MAX_CID_LENGTH)
      throw tpError('connection id parameter longer than 20 bytes (RFC 9000 §17.2)');
  }
  // §18.2: IPv4 (4+2) + IPv6 (16+2) + CID length (1) + CID (1..20) + reset token (16).
  if (tp.preferredAddress !== undefined) {
    const pa = tp.preferredAddress;
    const cidLength = pa.length >= 25 ? pa[24]! : -1;
    if (cidLength < 1 || cidLength > QUIC_MAX_CID_LENGTH || pa.length !== 25 + cidLength + 16) {
      throw tpError('malformed preferred_address (RFC 9000 §18.2)');
    }
  }
}

/** The quic_transport_parameters extension body for `tp`: only non-default values are written. */
export function encodeQuicTransportParameters(tp: QuicTransportParameters): Uint8Array {
  validate(tp);
  const defaults = defaultQuicTransportParameters();
  const parts: { id: number; value: Uint8Array }[] = [];
  for (const [id, field] of BYTES_FIELDS) {
    const v = tp[field] as Uint8Array | undefined;
    if (v !== undefined) parts.push({ id, value: v });
  }
  for (const [id, field] of INTEGER_FIELDS) {
    const v = tp[field] as number;
    if (v === defaults[field]) continue;
    const value = new Uint8Array(varintLength(v));
    writeVarint(value, 0, v);
    parts.push({ id, value });
  }
  if (tp.disableActiveMigration) parts.push({ id: P.disable_active_migration, value: new Uint8Array(0) });
  let size = 0;
  for (const p of parts) size += varintLength(p.id) + varintLength(p.value.length) + p.value.length;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    o = writeVarint(out, o, p.id);
    o = writeVarint(out, o, p.value.length);
    out.set(p.value, o);
    o += p.value.length;
  }
  return out;
}

/**
 * Decodes the transport parameters `sender` sent (RFC 9000 §18), applying §18.2 defaults.
 * Throws {@link QuicError} TRANSPORT_PARAMETER_ERROR for a truncated or repeated parameter, a
 * value out of range, or a server-only parameter from a client (§18.2).
 */
export function decodeQuicTransportParameters(
  bytes: Uint8Array,
  sender: 'client' | 'server',
): QuicTransportParameters {
  const tp = defaultQuicTransportParameters();
  const seen = new Set<bigint>();
  let o = 0;
  const readVar = (what: string): bigint => {
    const v = readVarintBig(bytes, o);
    if (v < 0n) throw tpError(`${what} cut short (RFC 9000 §18)`);
    o += varintLengthOf(bytes[o]!);
    return v;
  };
  while (o < bytes.length) {
    const id = readVar('transport parameter id');
    const length = readVar('transport parameter length');
    if (length > BigInt(bytes.length - o))
      throw tpError('transport parameter runs past the end (RFC 9000 §18)');
    const value = bytes.subarray(o, o + Number(length));
    o += Number(length);
    // §7.4: "An endpoint SHOULD treat receipt of duplicate transport parameters as a connection error".
    if (seen.has(id)) throw tpError(`transport parameter 0x${id.toString(16)} repeated (RFC 9000 §7.4)`);
    seen.add(id);
    if (id > 0x10n) continue; // unknown or reserved (§18.1): ignored
    const n = Number(id);
    if (sender === 'client' && SERVER_ONLY.includes(n)) {
      throw tpError(`a client sent the server-only transport parameter 0x${n.toString(16)} (RFC 9000 §18.2)`);
    }
    if (n === P.disable_active_migration) {
      if (value.length !== 0) throw tpError('disable_active_migration is not empty (RFC 9000 §18.2)');
      tp.disableActiveMigration = true;
      continue;
    }
    const bytesField = BYTES_FIELDS.find(([i]) => i === n);
    if (bytesField !== undefined) {
      (tp as unknown as Record<string, Uint8Array>)[bytesField[1]] = value.slice();
      continue;
    }
    const intField = INTEGER_FIELDS.find(([i]) => i === n)!;
    const v = readVarintBig(value, 0);
    if (v < 0n || varintLengthOf(value[0]!) !== value.length) {
      throw tpError(`transport parameter 0x${n.toString(16)} is not one varint (RFC 9000 §18)`);
    }
    // Values above 2^53 - 1 only matter as "unlimited" (or too large): rounding is harmless.
    (tp as unknown as Record<string, number>)[intField[1]] = Number(v);
  }
  validate(tp);
  if (tp.initialSourceConnectionId === undefined) {
    throw tpError('initial_source_connection_id is missing (RFC 9000 §7.3)');
  }
  if (sender === 'server' && tp.originalDestinationConnectionId === undefined) {
    throw tpError('original_destination_connection_id is missing (RFC 9000 §7.3)');
  }
  return tp;
}
