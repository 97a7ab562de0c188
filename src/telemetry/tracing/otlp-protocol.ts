/**
 * The OTLP/HTTP encodings the exporter can send (OpenTelemetry Protocol spec, "OTLP/HTTP"):
 * "Binary Protobuf Encoding" with `Content-Type: application/x-protobuf`, and "JSON Protobuf
 * Encoding" with `Content-Type: application/json`. They are named as the SDK configuration
 * names them (`OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf`, `http/json`); its third value,
 * `grpc`, is another transport and not offered.
 */
import { AvxError } from '../../core/errors.js';

/** An OTLP/HTTP encoding: `'http/json'` or `'http/protobuf'`. */
export type OtlpProtocol = 'http/json' | 'http/protobuf';

/** An exporter was asked for an OTLP protocol it does not speak. */
export class OtlpProtocolError extends AvxError {
  /** The protocol asked for. */
  readonly protocol: unknown;

  constructor(protocol: unknown) {
    super(
      'AVX_OTLP_UNSUPPORTED_PROTOCOL',
      `OTLP exporter protocol ${JSON.stringify(protocol)} is not supported: use 'http/json' or ` +
        `'http/protobuf' (OTLP/HTTP; 'grpc' is not offered)`,
    );
    this.protocol = protocol;
  }
}

/**
 * `protocol`, checked. The default is `'http/protobuf'`: "If no configuration is provided the
 * default transport SHOULD be http/protobuf" (OpenTelemetry specification, OTLP Exporter
 * Configuration, "Specify Protocol"); some receivers take nothing else. Throws
 * {@link OtlpProtocolError}.
 */
export function otlpProtocol(protocol: unknown = 'http/protobuf'): OtlpProtocol {
  if (protocol === 'http/json' || protocol === 'http/protobuf') return protocol;
  throw new OtlpProtocolError(protocol);
}

/** The `Content-Type` of an export request in `protocol` (OTLP/HTTP "Request"). */
export function otlpContentType(protocol: OtlpProtocol): string {
  return protocol === 'http/protobuf' ? 'application/x-protobuf' : 'application/json';
}

/**
 * A compression of export request bodies (OTLP/HTTP "Request": servers must accept
 * `Content-Encoding: gzip`): `'gzip'` or `'none'`.
 */
export type OtlpCompression = 'gzip' | 'none';

/** `compression`, checked; the default is `'none'`. Throws an AvxError (AVX_OTLP_UNSUPPORTED_COMPRESSION). */
export function otlpCompression(compression: unknown = 'none'): OtlpCompression {
  if (compression === 'gzip' || compression === 'none') return compression;
  throw new AvxError(
    'AVX_OTLP_UNSUPPORTED_COMPRESSION',
    `OTLP exporter compression ${JSON.stringify(compression)} is not supported: use 'gzip' or 'none'`,
  );
}
