/**
 * Test doubles for OTLP/HTTP: a loopback receiver that collects export requests in JSON or
 * protobuf, gzip-compressed or not (and can fail the first ones on purpose), and a strict check of OTLP JSON against the official
 * opentelemetry-proto definitions (the .proto files shipped in the npm package
 * `@opentelemetry/otlp-grpc-exporter-base@0.38`), loaded with protobufjs: every key must be a
 * field of its message, every value of the field's type (ids as hex per the OTLP JSON encoding,
 * 64-bit integers as decimal strings, enums as known numbers), and the message must then survive
 * `fromObject` / `verify` / encode / decode. A protobuf body is decoded with the same definitions
 * and turned into the OTLP JSON shape (ids as hex, 64-bit integers as decimal strings), so that
 * tests read both encodings alike.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

/** A span of an export request, as OTLP JSON (fields at their default may be absent). */
export interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code: number; message?: string };
}

/** One export request received. */
export interface ReceivedExport {
  contentType: string | undefined;
  /** The request as OTLP JSON (a protobuf body decoded and converted, see {@link otlpJsonOf}). */
  body: unknown;
  /** The body's bytes, inflated when it came with `content-encoding: gzip`. */
  raw: Buffer;
  /** The body's bytes as they came. */
  wire: Buffer;
  /** The request's header fields. */
  headers: IncomingMessage['headers'];
  /** The request-target (path and query). */
  path: string | undefined;
}

/** An OTLP/HTTP receiver on 127.0.0.1. */
export class OtlpReceiver {
  readonly received: ReceivedExport[] = [];
  /** Status codes to answer the next requests with, in order (then 200). */
  readonly failures: number[] = [];
  /**
   * Partial successes to answer the next accepted requests with, in order (then none), in the
   * request's encoding: JSON, or protobuf made by the official definitions.
   */
  readonly rejections: { rejectedSpans: number; errorMessage: string }[] = [];
  /** The bodies of the requests answered with one of {@link failures}, and their heads. */
  readonly refused: { raw: Buffer; headers: IncomingMessage['headers'] }[] = [];
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    let self: OtlpReceiver | undefined;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const wire = Buffer.concat(chunks);
        const gzip = req.headers['content-encoding'] === 'gzip';
        self!.handle(req, gzip ? gunzipSync(wire) : wire, wire, res);
      });
    });
    self = new OtlpReceiver(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/v1/traces`;
  }

  /** Every span received so far, flattened. */
  spans(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const r of this.received) {
      const body = r.body as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
      for (const rs of body.resourceSpans) for (const ss of rs.scopeSpans) out.push(...ss.spans);
    }
    return out;
  }

  /** Resolves once at least `count` spans arrived, or rejects after `ms`. */
  async waitForSpans(count: number, ms = 10_000): Promise<Record<string, unknown>[]> {
    const deadline = Date.now() + ms;
    while (this.spans().length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.spans().length} of ${count} spans arrived`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.spans();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, body: Buffer, wire: Buffer, res: ServerResponse): void {
    const failure = this.failures.shift();
    if (failure !== undefined) {
      this.refused.push({ raw: body, headers: req.headers });
      res.writeHead(failure, { 'retry-after': '0' }).end();
      return;
    }
    const contentType = req.headers['content-type'];
    if (contentType === 'application/x-protobuf') {
      const type = exportTraceServiceRequestType();
      this.received.push({
        contentType,
        body: otlpJsonOf(type, type.decode(body)),
        raw: body,
        wire,
        headers: req.headers,
        path: req.url,
      });
      // An ExportTraceServiceResponse with no partial_success (all accepted) is zero bytes.
      const rejection = this.rejections.shift();
      const answer =
        rejection === undefined
          ? Buffer.alloc(0)
          : Buffer.from(
              exportTraceServiceResponseType()
                .encode({
                  partialSuccess: {
                    rejectedSpans: rejection.rejectedSpans,
                    errorMessage: rejection.errorMessage,
                  },
                })
                .finish(),
            );
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(answer);
    } else {
      this.received.push({
        contentType,
        body: JSON.parse(body.toString('utf8')),
        raw: body,
        wire,
        headers: req.headers,
        path: req.url,
      });
      const rejection = this.rejections.shift();
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        rejection === undefined
          ? '{}'
          : JSON.stringify({
              partialSuccess: {
                rejectedSpans: String(rejection.rejectedSpans),
                errorMessage: rejection.errorMessage,
              },
            }),
      );
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

const require = createRequire(import.meta.url);
const protosDir = join(
  dirname(require.resolve('@opentelemetry/otlp-grpc-exporter-base/package.json')),
  'build',
  'protos',
);

let traceService: protobuf.Root | undefined;

function traceServiceRoot(): protobuf.Root {
  if (traceService === undefined) {
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(protosDir, target);
    root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
    root.resolveAll();
    traceService = root;
  }
  return traceService;
}

/** The `ExportTraceServiceRequest` message type of the official definitions. */
export function exportTraceServiceRequestType(): protobuf.Type {
  return traceServiceRoot().lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
}

let responseType: protobuf.Type | undefined;

/**
 * `ExportTraceServiceResponse` with its `partial_success` (opentelemetry-proto 0.19 on): the
 * definitions bundled with the devDependency predate it, so the message is declared here as
 * the current trace_service.proto has it, and protobufjs encodes it.
 */
export function exportTraceServiceResponseType(): protobuf.Type {
  responseType ??= protobuf
    .parse(
      `syntax = "proto3";
       package opentelemetry.proto.collector.trace.v1;
       message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
       message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }`,
    )
    .root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
  return responseType;
}

const HEX_ID_FIELDS: Record<string, number> = { traceId: 32, spanId: 16, parentSpanId: 16 };
const INT64 = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const INT32 = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);

/** Throws with the path of the first value that breaks the OTLP JSON schema. */
export function checkOtlpJson(type: protobuf.Type, value: unknown, path = '$'): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${path}: expected a ${type.name} object`);
  }
  const oneofsSet = new Map<string, string>();
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const field = type.fields[key];
    if (field === undefined) throw new Error(`${path}.${key}: not a field of ${type.name}`);
    field.resolve();
    if (field.partOf !== null) {
      const other = oneofsSet.get(field.partOf.name);
      if (other !== undefined)
        throw new Error(`${path}: oneof ${field.partOf.name} set twice (${other}, ${key})`);
      oneofsSet.set(field.partOf.name, key);
    }
    const items = field.repeated ? v : [v];
    if (field.repeated && !Array.isArray(v)) throw new Error(`${path}.${key}: expected an array`);
    (items as unknown[]).forEach((item, i) => {
      const at = field.repeated ? `${path}.${key}[${i}]` : `${path}.${key}`;
      checkValue(field, key, item, at);
    });
  }
}

function checkValue(field: protobuf.Field, key: string, item: unknown, at: string): void {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) {
    checkOtlpJson(resolved, item, at);
  } else if (resolved instanceof protobuf.Enum) {
    if (typeof item !== 'number' || !Object.values(resolved.values).includes(item)) {
      throw new Error(`${at}: ${String(item)} is not a value of enum ${resolved.name}`);
    }
  } else if (field.type === 'bytes') {
    const length = HEX_ID_FIELDS[key];
    if (length === undefined || typeof item !== 'string' || !new RegExp(`^[0-9a-f]{${length}}$`).test(item)) {
      throw new Error(`${at}: expected ${length ?? '?'} lowercase hex digits (OTLP JSON ids)`);
    }
  } else if (INT64.has(field.type)) {
    if (!(typeof item === 'string' && /^-?\d+$/.test(item)) && !Number.isInteger(item)) {
      throw new Error(`${at}: expected a 64-bit integer (decimal string)`);
    }
  } else if (INT32.has(field.type)) {
    if (!Number.isInteger(item)) throw new Error(`${at}: expected an integer`);
  } else if (field.type === 'double' || field.type === 'float') {
    if (typeof item !== 'number') throw new Error(`${at}: expected a number`);
  } else if (field.type === 'bool') {
    if (typeof item !== 'boolean') throw new Error(`${at}: expected a boolean`);
  } else if (field.type === 'string') {
    if (typeof item !== 'string') throw new Error(`${at}: expected a string`);
  } else {
    throw new Error(`${at}: unexpected field type ${field.type}`);
  }
}

/**
 * A decoded protobuf message as OTLP JSON: proto3 JSON with ids as hex instead of base64 (OTLP
 * "JSON Protobuf Encoding"), 64-bit integers as decimal strings, enums as numbers, fields at
 * their default left out. The keys are those of the JSON encoding (lowerCamelCase).
 */
export function otlpJsonOf(type: protobuf.Type, message: protobuf.Message): unknown {
  const object = type.toObject(message, { longs: String, enums: Number, bytes: String });
  return JSON.parse(JSON.stringify(object), (key, value) =>
    key in HEX_ID_FIELDS && typeof value === 'string' ? Buffer.from(value, 'base64').toString('hex') : value,
  );
}

/** Checks `body` strictly, then round-trips it through the protobuf binary encoding. */
export function validateExportTraceServiceRequest(body: unknown): protobuf.Message {
  const type = exportTraceServiceRequestType();
  checkOtlpJson(type, body);
  // The OTLP JSON encoding writes ids as hex; protobuf JSON wants base64 for bytes.
  const binaryIds = JSON.parse(JSON.stringify(body), (key, value) =>
    key in HEX_ID_FIELDS && typeof value === 'string' ? Buffer.from(value, 'hex').toString('base64') : value,
  );
  const message = type.fromObject(binaryIds);
  const problem = type.verify(message);
  if (problem !== null) throw new Error(`protobuf verify: ${problem}`);
  return type.decode(type.encode(message).finish());
}
