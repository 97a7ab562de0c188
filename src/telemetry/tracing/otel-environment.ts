/**
 * The OpenTelemetry SDK's environment variables, read as defaults under the options given in
 * code, so that a service deployed with the usual `OTEL_*` settings exports where they say
 * (OpenTelemetry specification, "Environment Variable Specification", "OTLP Exporter
 * Configuration"):
 * - `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (used as is) or `OTEL_EXPORTER_OTLP_ENDPOINT` (a base
 *   URL: `v1/traces` is appended to its path);
 * - `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS` (`key=value,...`, values percent-decoded),
 *   `_TIMEOUT` (ms), `_COMPRESSION` (`gzip`, `none`), `_PROTOCOL` (`http/json`,
 *   `http/protobuf`; `grpc` is not offered);
 * - `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` (`key=value,...`), the resource;
 * - `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`,
 *   `OTEL_BSP_EXPORT_TIMEOUT`: the batching;
 * - `OTEL_TRACES_SAMPLER` (`always_on`, `always_off`, `traceidratio`, `parentbased_always_on`,
 *   `parentbased_always_off`, `parentbased_traceidratio`) with `OTEL_TRACES_SAMPLER_ARG`, and
 *   `OTEL_SDK_DISABLED=true`, which samples nothing.
 * The signal-specific variable (`..._TRACES_...`) wins over the general one. A value that does
 * not parse is ignored with a process warning (code `AVX_OTEL_ENVIRONMENT`), as the
 * specification asks, rather than stopping the service.
 *
 * Pure functions of an environment record: the exporter and `tracing()` pass `process.env`
 * unless told otherwise (`env: false`, or a record of their own).
 */
import type { OtlpCompression, OtlpProtocol } from './otlp-protocol.js';
import { parentBasedSampler, ratioSampler, type Sampler } from './sampler.js';

/** An environment: `process.env` or a record standing for it. */
export type OtelEnvironmentRecord = Readonly<Record<string, string | undefined>>;

/** The exporter settings an environment gives (each undefined where it gives none). */
export interface OtelExporterEnvironment {
  url?: string;
  headers?: Record<string, string>;
  timeout?: number;
  compression?: OtlpCompression;
  protocol?: OtlpProtocol;
  resource?: Record<string, string>;
  scheduleDelay?: number;
  maxQueueSize?: number;
  maxBatchSize?: number;
}

/** The sampler an environment asks for, and whether it records every new trace. */
export interface OtelSamplerEnvironment {
  sampler: Sampler;
  /** True when every root span is sampled (no trace id is needed to decide). */
  everyRoot: boolean;
}

/** Reads the exporter's settings from `env` (see the file comment). */
export function exporterEnvironment(env: OtelEnvironmentRecord): OtelExporterEnvironment {
  const out: OtelExporterEnvironment = {};
  const url = tracesEndpoint(env);
  if (url !== undefined) out.url = url;
  const headers = signal(env, 'HEADERS');
  if (headers !== undefined) out.headers = keyValueList(headers.name, headers.value);
  const timeout = signal(env, 'TIMEOUT');
  const timeoutMs =
    timeout !== undefined
      ? milliseconds(timeout.name, timeout.value)
      : optionalMilliseconds(env, 'OTEL_BSP_EXPORT_TIMEOUT');
  if (timeoutMs !== undefined) out.timeout = timeoutMs;
  const compression = signal(env, 'COMPRESSION');
  if (compression !== undefined) {
    const value = compression.value.trim().toLowerCase();
    if (value === 'gzip' || value === 'none') out.compression = value;
    else warn(compression.name, compression.value, "'gzip' or 'none'");
  }
  const protocol = signal(env, 'PROTOCOL');
  if (protocol !== undefined) {
    const value = protocol.value.trim().toLowerCase();
    if (value === 'http/json' || value === 'http/protobuf') out.protocol = value;
    else warn(protocol.name, protocol.value, "'http/json' or 'http/protobuf' ('grpc' is not offered)");
  }
  const resource = resourceAttributes(env);
  if (resource !== undefined) out.resource = resource;
  const delay = optionalMilliseconds(env, 'OTEL_BSP_SCHEDULE_DELAY');
  if (delay !== undefined) out.scheduleDelay = delay;
  const queue = optionalCount(env, 'OTEL_BSP_MAX_QUEUE_SIZE');
  if (queue !== undefined) out.maxQueueSize = queue;
  const batch = optionalCount(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE');
  if (batch !== undefined) out.maxBatchSize = batch;
  return out;
}

/** The sampler `env` asks for (`OTEL_TRACES_SAMPLER`, `OTEL_SDK_DISABLED`), if any. */
export function samplerEnvironment(env: OtelEnvironmentRecord): OtelSamplerEnvironment | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
    return { sampler: ratioSampler(0), everyRoot: false };
  }
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  if (name === undefined || name === '') return undefined;
  const ratio = (): number => {
    const arg = env.OTEL_TRACES_SAMPLER_ARG;
    if (arg === undefined || arg.trim() === '') return 1;
    const value = Number(arg);
    if (Number.isFinite(value) && value >= 0 && value <= 1) return value;
    warn('OTEL_TRACES_SAMPLER_ARG', arg, 'a number from 0 to 1');
    return 1;
  };
  switch (name) {
    case 'always_on':
      return { sampler: ratioSampler(1), everyRoot: true };
    case 'always_off':
      return { sampler: ratioSampler(0), everyRoot: false };
    case 'traceidratio': {
      const r = ratio();
      return { sampler: ratioSampler(r), everyRoot: r >= 1 };
    }
    case 'parentbased_always_on':
      return { sampler: parentBasedSampler(ratioSampler(1)), everyRoot: true };
    case 'parentbased_always_off':
      return { sampler: parentBasedSampler(ratioSampler(0)), everyRoot: false };
    case 'parentbased_traceidratio': {
      const r = ratio();
      return { sampler: parentBasedSampler(ratioSampler(r)), everyRoot: r >= 1 };
    }
    default:
      warn('OTEL_TRACES_SAMPLER', name, 'always_on, always_off, traceidratio or their parentbased_ forms');
      return undefined;
  }
}

/** The traces endpoint: the signal's own URL as is, or the general base URL + `v1/traces`. */
function tracesEndpoint(env: OtelEnvironmentRecord): string | undefined {
  const own = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (own !== undefined) return httpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', own)?.href;
  const base = nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (base === undefined) return undefined;
  const url = httpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base);
  if (url === undefined) return undefined;
  // "OTLP Exporter Configuration": the signal's path is appended to the base URL's path.
  url.pathname = `${url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`}v1/traces`;
  return url.href;
}

function httpUrl(name: string, value: string): URL | undefined {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // Reported below.
  }
  warn(name, value, 'an http: or https: URL');
  return undefined;
}

/** `OTEL_EXPORTER_OTLP_TRACES_<key>`, else `OTEL_EXPORTER_OTLP_<key>`, with its name. */
function signal(env: OtelEnvironmentRecord, key: string): { name: string; value: string } | undefined {
  const own = `OTEL_EXPORTER_OTLP_TRACES_${key}`;
  const ownValue = nonEmpty(env[own]);
  if (ownValue !== undefined) return { name: own, value: ownValue };
  const general = `OTEL_EXPORTER_OTLP_${key}`;
  const value = nonEmpty(env[general]);
  return value === undefined ? undefined : { name: general, value };
}

/** `OTEL_SERVICE_NAME` over `OTEL_RESOURCE_ATTRIBUTES`, or undefined when neither is set. */
function resourceAttributes(env: OtelEnvironmentRecord): Record<string, string> | undefined {
  const list = nonEmpty(env.OTEL_RESOURCE_ATTRIBUTES);
  const name = nonEmpty(env.OTEL_SERVICE_NAME);
  if (list === undefined && name === undefined) return undefined;
  const attributes = list === undefined ? {} : keyValueList('OTEL_RESOURCE_ATTRIBUTES', list);
  if (name !== undefined) attributes['service.name'] = name.trim();
  return attributes;
}

/**
 * A `key=value,key=value` list (W3C Baggage's format, as the specification uses it for headers
 * and resource attributes): keys and values trimmed, values percent-decoded. A member without
 * `=`, with an empty key or a bad percent-encoding is left out, with a warning.
 */
function keyValueList(name: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const member of text.split(',')) {
    if (member.trim() === '') continue;
    const eq = member.indexOf('=');
    const key = eq < 0 ? '' : member.slice(0, eq).trim();
    let value: string | undefined;
    try {
      value = eq < 0 ? undefined : decodeURIComponent(member.slice(eq + 1).trim());
    } catch {
      value = undefined;
    }
    if (key === '' || value === undefined) {
      warn(name, member, 'key=value members separated by commas, values percent-encoded');
      continue;
    }
    out[key] = value;
  }
  return out;
}

function optionalMilliseconds(env: OtelEnvironmentRecord, name: string): number | undefined {
  const value = nonEmpty(env[name]);
  return value === undefined ? undefined : milliseconds(name, value);
}

function milliseconds(name: string, value: string): number | undefined {
  const n = Number(value);
  if (Number.isInteger(n) && n >= 0) return n;
  warn(name, value, 'a whole number of milliseconds');
  return undefined;
}

function optionalCount(env: OtelEnvironmentRecord, name: string): number | undefined {
  const value = nonEmpty(env[name]);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (Number.isInteger(n) && n > 0) return n;
  warn(name, value, 'a whole number above 0');
  return undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

function warn(name: string, value: string, expected: string): void {
  process.emitWarning(`${name}=${JSON.stringify(value)} is ignored: expected ${expected}`, {
    code: 'AVX_OTEL_ENVIRONMENT',
  });
}
