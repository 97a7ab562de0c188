/**
 * The error of the TLS 1.3 handshake core: a stable `AVX_TLS13_*` code and the TLS alert
 * (RFC 8446 §6) the endpoint sends, or, over QUIC, turns into CRYPTO_ERROR 0x0100 + alert
 * (RFC 9001 §4.8).
 */
import { AvxError } from '../core/errors.js';

/** RFC 8446 §6 AlertDescription values used by this core (plus RFC 7301 no_application_protocol). */
export const Tls13Alert = {
  close_notify: 0,
  unexpected_message: 10,
  bad_record_mac: 20,
  record_overflow: 22,
  handshake_failure: 40,
  bad_certificate: 42,
  unsupported_certificate: 43,
  certificate_revoked: 44,
  certificate_expired: 45,
  certificate_unknown: 46,
  illegal_parameter: 47,
  unknown_ca: 48,
  access_denied: 49,
  decode_error: 50,
  decrypt_error: 51,
  protocol_version: 70,
  insufficient_security: 71,
  internal_error: 80,
  inappropriate_fallback: 86,
  user_canceled: 90,
  missing_extension: 109,
  unsupported_extension: 110,
  unrecognized_name: 112,
  bad_certificate_status_response: 113,
  unknown_psk_identity: 115,
  certificate_required: 116,
  no_application_protocol: 120,
} as const;

/** The name of an alert, for messages. */
export type Tls13AlertName = keyof typeof Tls13Alert;

/** Stable codes of {@link Tls13Error}. */
export type Tls13ErrorCode =
  /** A message or extension whose bytes break its RFC 8446 §4 layout (decode_error). */
  | 'AVX_TLS13_DECODE'
  /** A well-formed field with a forbidden value (illegal_parameter). */
  | 'AVX_TLS13_ILLEGAL_PARAMETER'
  /** A handshake message that is not allowed in the current state (unexpected_message). */
  | 'AVX_TLS13_UNEXPECTED_MESSAGE'
  /** No acceptable parameters in common with the peer (handshake_failure). */
  | 'AVX_TLS13_HANDSHAKE_FAILURE'
  /** The peer does not offer TLS 1.3 (protocol_version). */
  | 'AVX_TLS13_PROTOCOL_VERSION'
  /** A required extension is absent (missing_extension). */
  | 'AVX_TLS13_MISSING_EXTENSION'
  /** An extension that the peer may not send in that message (unsupported_extension). */
  | 'AVX_TLS13_UNSUPPORTED_EXTENSION'
  /** No ALPN protocol in common (no_application_protocol, RFC 7301 §3.2). */
  | 'AVX_TLS13_NO_APPLICATION_PROTOCOL'
  /** A Finished MAC or CertificateVerify signature that does not verify (decrypt_error). */
  | 'AVX_TLS13_DECRYPT_ERROR'
  /** A certificate that fails verification (bad_certificate, certificate_expired, unknown_ca, ...). */
  | 'AVX_TLS13_CERTIFICATE'
  /** A handshake message longer than the configured limit (unexpected_message / internal limit). */
  | 'AVX_TLS13_MESSAGE_TOO_LARGE'
  /** A misuse of this API or an internal failure (internal_error). */
  | 'AVX_TLS13_INTERNAL';

/** A TLS 1.3 failure: `alert` is the RFC 8446 §6 AlertDescription to send to the peer. */
export class Tls13Error extends AvxError {
  /** The TLS alert (RFC 8446 §6.2) that reports this error to the peer. */
  readonly alert: number;

  constructor(code: Tls13ErrorCode, alert: number, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.alert = alert;
  }

  /** The QUIC transport error code for this alert: CRYPTO_ERROR 0x0100 + alert (RFC 9001 §4.8). */
  get quicErrorCode(): number {
    return 0x100 + this.alert;
  }
}

/** decode_error: the bytes do not follow the structure of RFC 8446 §4. */
export function decodeError(message: string): Tls13Error {
  return new Tls13Error('AVX_TLS13_DECODE', Tls13Alert.decode_error, message);
}

/** illegal_parameter: a field has a value the RFC forbids. */
export function illegalParameter(message: string): Tls13Error {
  return new Tls13Error('AVX_TLS13_ILLEGAL_PARAMETER', Tls13Alert.illegal_parameter, message);
}

/** unexpected_message: a message out of order (RFC 8446 §4, "Protocol Messages"). */
export function unexpectedMessage(message: string): Tls13Error {
  return new Tls13Error('AVX_TLS13_UNEXPECTED_MESSAGE', Tls13Alert.unexpected_message, message);
}
