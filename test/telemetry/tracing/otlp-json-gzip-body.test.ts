// Tests for the gzip-compressed JSON export body (src/telemetry/tracing/otlp-json-gzip-body.ts
// and otlp-json-gzip-span.ts): inflated, it is the plain JSON body of the same batch byte for
// byte, for every mix of spans and records (runs, parents, tracestate, facts that change,
// times in other seconds, batch after batch), in chunks of any size, and again for a retry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Headers } from '../../../src/core/headers.js';
import { IncomingBody } from '../../../src/core/incoming-body.js';
import { type ChunkedBody, ChunkedBodyWriter, type ChunkSink } from '../../../src/h1/chunked-body-writer.js';
import { Request } from '../../../src/server/request.js';
import { OtlpJsonBatchBody } from '../../../src/telemetry/tracing/otlp-json-batch-body.js';
import { exportRequestPrefix } from '../../../src/telemetry/tracing/otlp-json-encoding.js';
import { OtlpJsonGzipBatchBody } from '../../../src/telemetry/tracing/otlp-json-gzip-body.js';
import { OtlpSpanBatch } from '../../../src/telemetry/tracing/otlp-span-batch.js';
import { ServerSpanFactsReader } from '../../../src/telemetry/tracing/server-span-facts.js';
import { ServerSpanRecords } from '../../../src/telemetry/tracing/server-span-records.js';
import { SpanKind } from '../../../src/telemetry/tracing/span.js';
import { SpanHeaderFields } from '../../../src/telemetry/tracing/span-header-fields.js';
import { Tracer } from '../../../src/telemetry/tracing/tracer.js';
import type { SpanContext } from '../../../src/telemetry/tracing/w3c-trace-context.js';

/** A sink that keeps the body's bytes, without the chunked framing. */
class BodySink implements ChunkSink {
  writableLength = 0;
  private readonly pieces: Buffer[] = [];
  private headSeen = false;
  write(chunk: Buffer | string): boolean {
    if (!this.headSeen) {
      this.headSeen = true;
      return true;
    }
    this.pieces.push(Buffer.from(chunk as Buffer));
    return true;
  }
  cork(): void {}
  uncork(): void {}
  /** The body: every chunk's data, framing removed (RFC 9112 §7.1). */
  body(): Buffer {
    const all = Buffer.concat(this.pieces);
    const out: Buffer[] = [];
    let at = 0;
    for (;;) {
      const crlf = all.indexOf('\r\n', at);
      const size = Number.parseInt(all.toString('latin1', at, crlf), 16);
      if (size === 0) break;
      out.push(all.subarray(crlf + 2, crlf + 2 + size));
      at = crlf + 2 + size + 2;
    }
    return Buffer.concat(out);
  }
}

function bodyBytes(body: ChunkedBody, chunkSize: number): Buffer {
  const sink = new BodySink();
  new ChunkedBodyWriter(chunkSize).write(sink, 'HEAD\r\n\r\n', body);
  return sink.body();
}

const prefix = Buffer.from(
  exportRequestPrefix({ 'service.name': 'gzip-test' }, { name: 'avx-http', version: '1' }),
);

function request(target: string, userAgent: string, headers: Record<string, string> = {}): Request {
  return new Request({
    method: 'GET',
    target,
    headers: new Headers({ host: 'api.example:8080', 'user-agent': userAgent, ...headers }),
    body: IncomingBody.empty(),
    protocol: 'http/1.1',
    connection: { remoteAddress: '127.0.0.1', remotePort: 1, secure: false },
  });
}

/** Counter-based ids, so that runs are repeatable. */
let fillCount = 0;
const fill = (buf: Buffer, offset: number, size: number) => {
  for (let k = 0; k < size; k++) buf[offset + k] = (k * 131 + fillCount * 7 + 1) & 0xff;
  fillCount++;
};

test('inflated, the gzip body is the plain JSON body, for every mix of spans and records', () => {
  const reader = new ServerSpanFactsReader();
  const fields = new SpanHeaderFields();
  const facts = (target: string, ua: string, status = 200) => {
    const req = request(target, ua);
    return reader.read(req, '/x', status, fields.read(req.headers));
  };
  const hello = facts('/hello', 'wrk');
  const other = facts('/other?q=1', 'curl/8', 404);
  const parent: SpanContext = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    traceFlags: 1,
    traceState: undefined,
    remote: true,
  };
  const withState: SpanContext = { ...parent, traceState: 'vendor=1' };
  const tracer = new Tracer({ onEnd() {} });
  const second = 1_764_000_000_000;
  // Batch after batch through the same (pooled) batch object: templates outlive a member.
  const pooled = new OtlpSpanBatch(new ServerSpanRecords(fill));
  for (let round = 0; round < 6; round++) {
    if (round % 2 === 1) {
      // Spans that are not records come first in a body (and are written verbatim).
      const client = tracer.startSpan('GET', SpanKind.Client, undefined);
      client.setAttribute('url.full', 'http://x/').setAttribute('http.response.status_code', 200);
      client.end();
      pooled.add(client);
      pooled.add(client);
    }
    const n = round === 5 ? 1 : 300 + round * 57;
    for (let i = 0; i < n; i++) {
      const start = second + round * 10_000 + i * 3.3 + 0.000123;
      // Runs of one template, broken by another template, parents, a tracestate, a second
      // boundary inside a run, an end in a later second than its start.
      const f = i % 97 === 50 ? other : hello;
      const p = i % 41 === 7 ? parent : i % 113 === 9 ? withState : undefined;
      const end = i % 89 === 3 ? start + 1500.5 : start + 0.25 + (i % 7) / 1000;
      pooled.records.add(f, p, i % 61 === 13 ? 'aaaabbbbccccddddeeeeffff00001111' : undefined, start, end);
    }
    pooled.seal();
    for (const chunkSize of [65536, 1024, 300]) {
      const plain = bodyBytes(new OtlpJsonBatchBody(prefix, pooled), chunkSize);
      const gz = bodyBytes(new OtlpJsonGzipBatchBody(prefix, pooled), chunkSize);
      assert.equal(
        gunzipSync(gz).toString('latin1'),
        plain.toString('latin1'),
        `round ${round}, chunks of ${chunkSize}`,
      );
      // A retry writes the same JSON. (Not always the same bytes: a template's DEFLATE form may
      // have been made while the first one was written, and the retry then uses it throughout.)
      assert.equal(
        gunzipSync(bodyBytes(new OtlpJsonGzipBatchBody(prefix, pooled), chunkSize)).toString('latin1'),
        plain.toString('latin1'),
      );
    }
    const parsed = JSON.parse(
      gunzipSync(bodyBytes(new OtlpJsonGzipBatchBody(prefix, pooled), 65536)).toString(),
    );
    assert.equal(parsed.resourceSpans[0].scopeSpans[0].spans.length, pooled.count);
    pooled.clear();
  }
  // One run of a template (a hello-world server's batch): under a fifth of the JSON's bytes.
  for (let i = 0; i < 512; i++)
    pooled.records.add(hello, undefined, undefined, second + i * 0.1, second + i * 0.1 + 0.05);
  pooled.seal();
  const plain = bodyBytes(new OtlpJsonBatchBody(prefix, pooled), 65536);
  const gz = bodyBytes(new OtlpJsonGzipBatchBody(prefix, pooled), 65536);
  assert.equal(gunzipSync(gz).toString('latin1'), plain.toString('latin1'));
  assert.ok(gz.length < plain.length / 5, `${gz.length} of ${plain.length} bytes`);
});

test('an empty batch is a valid gzip of the plain empty request', () => {
  const batch = new OtlpSpanBatch();
  batch.seal();
  const plain = bodyBytes(new OtlpJsonBatchBody(prefix, batch), 65536);
  assert.equal(
    gunzipSync(bodyBytes(new OtlpJsonGzipBatchBody(prefix, batch), 65536)).toString(),
    plain.toString(),
  );
});
