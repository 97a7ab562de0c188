import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { H1ParseError } from '../../src/h1/h1-parse-error.js';
import { H1Parser } from '../../src/h1/h1-parser.js';
import {
  type H1MessageHead,
  type H1ParserOptions,
  type H1RequestHead,
  H1ResponseBody,
  type H1ResponseHead,
} from '../../src/h1/h1-types.js';

interface Message<Head> {
  head: Head;
  body: string;
  trailers: string[] | undefined;
  complete: boolean;
}

/** Parses `input` (split at `splits`) and returns the messages and how many bytes were consumed. */
function parse<Head extends H1MessageHead>(
  kind: 'request' | 'response',
  input: string | Buffer,
  options: H1ParserOptions = {},
  steer?: (head: Head) => H1ResponseBody | undefined,
  splits: number[] = [],
): { messages: Message<Head>[]; consumed: number; parser: H1Parser<Head> } {
  const messages: Message<Head>[] = [];
  let current: Message<Head> | undefined;
  const parser = new H1Parser<Head>(
    kind,
    {
      onHead(head) {
        current = { head, body: '', trailers: undefined, complete: false };
        messages.push(current);
        return steer?.(head);
      },
      onBody(chunk) {
        current!.body += chunk.toString('latin1');
      },
      onTrailers(trailers) {
        current!.trailers = trailers;
      },
      onMessageComplete() {
        current!.complete = true;
      },
    },
    options,
  );
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  let consumed = 0;
  let at = 0;
  for (const end of [...splits, bytes.length]) {
    const piece = bytes.subarray(at, end);
    const used = parser.execute(piece);
    consumed += used;
    at = end;
    if (used < piece.length) break;
  }
  return { messages, consumed, parser };
}

const req = (input: string | Buffer, options?: H1ParserOptions, splits?: number[]) =>
  parse<H1RequestHead>('request', input, options, undefined, splits);
const res = (input: string | Buffer, steer?: (h: H1ResponseHead) => H1ResponseBody | undefined) =>
  parse<H1ResponseHead>('response', input, {}, steer);

function rejects(input: string, code: string, options?: H1ParserOptions, status?: number): H1ParseError {
  let error: unknown;
  try {
    req(input, options);
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof H1ParseError, `expected H1ParseError ${code}, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  if (status !== undefined) assert.equal(error.status, status);
  // Split byte by byte, the same input fails the same way.
  let split: unknown;
  try {
    const bytes = Buffer.from(input, 'latin1');
    req(
      bytes,
      options,
      Array.from({ length: bytes.length - 1 }, (_, k) => k + 1),
    );
  } catch (err) {
    split = err;
  }
  assert.ok(split instanceof H1ParseError);
  assert.equal(split.code, code);
  return error;
}

describe('H1Parser requests', () => {
  test('a simple GET', () => {
    const { messages } = req('GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Empty:\r\n\r\n');
    assert.equal(messages.length, 1);
    const { head } = messages[0];
    assert.equal(head.method, 'GET');
    assert.equal(head.url, '/a?b=1');
    assert.equal(head.versionMajor, 1);
    assert.equal(head.versionMinor, 1);
    assert.deepEqual(head.headers, ['Host', 'example.com', 'X-Empty', '']);
    assert.equal(head.keepAlive, true);
    assert.equal(head.contentLength, -1);
    assert.equal(messages[0].complete, true);
  });

  test('Host and User-Agent reused from an earlier message only when their bytes are the same', () => {
    // The parser hands out the string it made for the previous Host or User-Agent (of any
    // parser) when the bytes repeat; values that differ in one byte, first or last, or that
    // are longer than what is compared, must still come out as sent.
    const long = `agent/${'x'.repeat(600)}`;
    const sent: [string, string][] = [
      ['a.example:8080', 'curl/8.5.0'],
      ['a.example:8080', 'curl/8.5.0'],
      ['a.example:8081', 'curl/8.5.1'],
      ['b.example:8081', 'durl/8.5.1'],
      ['b.example:8081', long],
      ['b.example:8081', `${long.slice(0, -1)}y`],
      ['a.example:8080', 'curl/8.5.0'],
    ];
    for (const [i, [host, agent]] of sent.entries()) {
      const spelling = i % 2 === 0 ? ['Host', 'User-Agent'] : ['host', 'user-agent'];
      // A new parser every other message: the reuse is shared between parsers.
      const { messages } = req(
        `GET / HTTP/1.1\r\n${spelling[0]}: ${host}\r\n${spelling[1]}: ${agent}\r\n\r\n` +
          `GET /2 HTTP/1.1\r\n${spelling[0]}: ${host}\r\n${spelling[1]}:  ${agent} \r\n\r\n`,
      );
      assert.equal(messages.length, 2);
      for (const { head } of messages)
        assert.deepEqual(head.headers, [spelling[0], host, spelling[1], agent]);
    }
  });

  test('field values lose surrounding whitespace but keep inner whitespace and obs-text', () => {
    const { messages } = req('GET / HTTP/1.1\r\nA: \t x  y \t\r\nB: caf\xe9\r\n\r\n');
    assert.deepEqual(messages[0].head.headers, ['A', 'x  y', 'B', 'caf\xe9']);
  });

  test('leading empty lines before a request are ignored (RFC 9112 §2.2)', () => {
    const { messages } = req('\r\n\r\nGET / HTTP/1.1\r\n\r\n');
    assert.equal(messages.length, 1);
  });

  test('HTTP/1.0 is not persistent unless it asks for keep-alive', () => {
    assert.equal(req('GET / HTTP/1.0\r\n\r\n').messages[0].head.keepAlive, false);
    assert.equal(req('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n').messages[0].head.keepAlive, true);
    assert.equal(req('GET / HTTP/1.1\r\nConnection: close\r\n\r\n').messages[0].head.keepAlive, false);
  });

  test('Content-Length body, delivered as views of the input without copying', () => {
    const input = Buffer.from('POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello');
    const chunks: Buffer[] = [];
    const parser = H1Parser.request({
      onHead() {},
      onBody(chunk) {
        chunks.push(chunk);
      },
      onTrailers() {},
      onMessageComplete() {},
    });
    parser.execute(input);
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0].toString(), 'hello');
    assert.equal(chunks[0].buffer, input.buffer, 'the body chunk shares memory with the input');
  });

  test('chunked body with extensions and trailers', () => {
    const { messages } = req(
      'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n' +
        '5;name=value;quoted="a \\"b\\""\r\nhello\r\n' +
        '1A\r\nabcdefghijklmnopqrstuvwxyz\r\n' +
        '0\r\nChecksum: abc\r\nX-Other: 1\r\n\r\n',
    );
    const [m] = messages;
    assert.equal(m.head.chunked, true);
    assert.equal(m.body, 'helloabcdefghijklmnopqrstuvwxyz');
    assert.deepEqual(m.trailers, ['Checksum', 'abc', 'X-Other', '1']);
    assert.equal(m.complete, true);
  });

  test('pipelined requests come out in order', () => {
    const { messages } = req(
      'GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\n\r\n',
    );
    assert.deepEqual(
      messages.map((m) => [m.head.url, m.body]),
      [
        ['/1', ''],
        ['/2', 'ok'],
        ['/3', ''],
      ],
    );
  });

  test('Host field lines are counted in any spelling of the name, whole or split (RFC 9112 §3.2)', () => {
    // The server answers 400 to a count other than one; the parser's part is to count every
    // spelling, through the common-name fast path ('Host', 'host') and the slow one ('hOsT').
    const input =
      'GET /0 HTTP/1.1\r\n\r\n' +
      'GET /1 HTTP/1.1\r\nHost: a.example\r\n\r\n' +
      'GET /2 HTTP/1.1\r\nhost: a.example:8080\r\n\r\n' +
      'GET /3 HTTP/1.1\r\nHOST: b.example\r\nX-Host: no\r\nHosts: no\r\n\r\n' +
      'GET /4 HTTP/1.1\r\nHost: a.example\r\nhOsT: b.example \r\n\r\n' +
      'GET /5 HTTP/1.0\r\nHost:\r\nhost: x\r\nConnection: keep-alive\r\nHOST: y\r\n\r\n' +
      'POST /6 HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nHost: trailer\r\n\r\n' +
      'GET /7 HTTP/1.1\r\n\r\n';
    const expected = [
      [0, ''],
      [1, 'a.example'],
      [1, 'a.example:8080'],
      [1, 'b.example'],
      [2, 'b.example'],
      [3, 'y'],
      [1, 'c'],
      [0, ''],
    ];
    const bytes = Buffer.from(input, 'latin1');
    const everyByte = Array.from({ length: bytes.length - 1 }, (_, k) => k + 1);
    for (const splits of [[], everyByte]) {
      const { messages } = req(bytes, {}, splits);
      assert.deepEqual(
        messages.map((m) => [m.head.hostCount, m.head.host]),
        expected,
        `split at ${splits.length} points`,
      );
    }
  });

  test('Expect: 100-continue is reported', () => {
    const { messages } = req('PUT / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx');
    assert.equal(messages[0].head.expectContinue, true);
  });

  test('Upgrade hands the rest of the input over', () => {
    const input = 'GET /chat HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello';
    const { messages, consumed, parser } = req(input);
    assert.equal(messages[0].head.upgrade, true);
    assert.equal(parser.upgraded, true);
    assert.equal(Buffer.from(input, 'latin1').subarray(consumed).toString('latin1'), '\x81\x05hello');
    assert.equal(parser.execute(Buffer.from('more')), 0, 'an upgraded parser takes nothing');
  });

  test('Upgrade without Connection: upgrade is not an upgrade (RFC 9110 §7.8)', () => {
    const { messages, parser } = req('GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET / HTTP/1.1\r\n\r\n');
    assert.equal(messages.length, 2);
    assert.equal(parser.upgraded, false);
  });

  test('CONNECT turns the connection into a tunnel after the head', () => {
    const input = 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01';
    const { messages, consumed, parser } = req(input);
    assert.equal(messages[0].head.url, 'example.com:443');
    assert.equal(parser.upgraded, true);
    assert.equal(consumed, input.length - 3);
  });

  test('the HTTP/2 preface is consumed whole and hands the connection over', () => {
    const input = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04';
    for (const splits of [[], [20], [1, 2, 3, 16, 17, 18, 19, 21, 22, 23]]) {
      const { consumed, parser, messages } = req(input, {}, splits);
      assert.equal(parser.upgraded, true);
      assert.equal(parser.http2Preface, true);
      assert.equal(messages.length, 0, 'the preface is not a request');
      assert.equal(input.slice(consumed), '\x00\x00\x00\x04', 'the first HTTP/2 frame is left over');
    }
    rejects('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n', 'AVX_H1_INVALID_START_LINE');
  });

  test('an HTTP/0.9 request line (no version) is recognised', () => {
    const { messages } = req('GET /\r\n\r\n');
    assert.equal(messages[0].head.versionMajor, 0);
    assert.equal(messages[0].head.versionMinor, 9);
    assert.equal(messages[0].head.keepAlive, false);
  });

  test('bytes above 0x7F in the request-target are rejected (RFC 3986 §2)', () => {
    rejects('GET /caf\xe9 HTTP/1.1\r\n\r\n', 'AVX_H1_INVALID_TARGET');
  });

  test('finish() between messages is fine, in the middle of one is an error', () => {
    const done = req('GET / HTTP/1.1\r\n\r\n').parser;
    done.finish();
    const half = req('POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc').parser;
    assert.throws(() => half.finish(), { code: 'AVX_H1_UNEXPECTED_EOF' });
  });

  test('a failed parser keeps failing with the same error', () => {
    const parser = H1Parser.request({ onHead() {}, onBody() {}, onTrailers() {}, onMessageComplete() {} });
    const first = (() => {
      try {
        parser.execute(Buffer.from('GET / HTTP/1.1\r\nBad Name: x\r\n\r\n'));
      } catch (err) {
        return err;
      }
    })();
    assert.ok(first instanceof H1ParseError);
    assert.throws(
      () => parser.execute(Buffer.from('GET / HTTP/1.1\r\n\r\n')),
      (err) => err === first,
    );
    parser.reset();
    assert.equal(parser.execute(Buffer.from('GET / HTTP/1.1\r\n\r\n')), 18);
  });

  test('a handler that throws leaves the parser failed, and the error reaches the caller', () => {
    const parser = H1Parser.request({
      onHead() {
        throw new Error('boom');
      },
      onBody() {},
      onTrailers() {},
      onMessageComplete() {},
    });
    assert.throws(() => parser.execute(Buffer.from('GET / HTTP/1.1\r\n\r\n')), /boom/);
    assert.throws(() => parser.execute(Buffer.from('GET / HTTP/1.1\r\n\r\n')), {
      code: 'AVX_H1_PARSER_FAILED',
    });
  });
});

describe('H1Parser rejects request smuggling vectors (RFC 9112 §6, §11.2)', () => {
  test('Content-Length with Transfer-Encoding', () => {
    rejects(
      'POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'AVX_H1_CONTENT_LENGTH_WITH_TRANSFER_ENCODING',
    );
  });
  test('differing or repeated Content-Length', () => {
    rejects(
      'POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n',
      'AVX_H1_DUPLICATE_CONTENT_LENGTH',
    );
    rejects(
      'POST / HTTP/1.1\r\nContent-Length: 4\r\ncontent-length: 4\r\n\r\n',
      'AVX_H1_DUPLICATE_CONTENT_LENGTH',
    );
  });
  test('malformed Content-Length', () => {
    for (const v of ['-1', '+4', '4 4', '0x10', '4,4', '', '1e3', '99999999999999999999']) {
      rejects(`POST / HTTP/1.1\r\nContent-Length: ${v}\r\n\r\n`, 'AVX_H1_INVALID_CONTENT_LENGTH');
    }
  });
  test('Transfer-Encoding whose final coding is not chunked', () => {
    rejects(
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
      'AVX_H1_INVALID_TRANSFER_ENCODING',
    );
    rejects(
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n',
      'AVX_H1_INVALID_TRANSFER_ENCODING',
    );
    rejects(
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n',
      'AVX_H1_INVALID_TRANSFER_ENCODING',
    );
  });
  test('obs-fold', () => {
    rejects('GET / HTTP/1.1\r\nA: b\r\n  c\r\n\r\n', 'AVX_H1_OBS_FOLD');
  });
  test('whitespace between field name and colon', () => {
    rejects('GET / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n', 'AVX_H1_WHITESPACE_BEFORE_COLON');
  });
  test('bare CR, bare LF and NUL', () => {
    rejects('GET / HTTP/1.1\r\nA: b\rc: d\r\n\r\n', 'AVX_H1_INVALID_LINE_ENDING');
    rejects('GET / HTTP/1.1\r\nA: b\nC: d\r\n\r\n', 'AVX_H1_INVALID_LINE_ENDING');
    rejects('GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n', 'AVX_H1_INVALID_HEADER_VALUE');
    rejects('GET / HTTP/1.1\nHost: a\r\n\r\n', 'AVX_H1_INVALID_START_LINE');
    rejects('GET / HTTP/1.1\r\nA: b\r\r\n\r\n', 'AVX_H1_INVALID_LINE_ENDING');
  });
  test('invalid tokens in the method or a field name', () => {
    rejects('GE(T / HTTP/1.1\r\n\r\n', 'AVX_H1_INVALID_METHOD');
    rejects('GET / HTTP/1.1\r\nA(b: c\r\n\r\n', 'AVX_H1_INVALID_HEADER_NAME');
    rejects('GET / HTTP/1.1\r\n: c\r\n\r\n', 'AVX_H1_INVALID_HEADER_NAME');
    rejects('GET / HTTP/1.1\r\nA\x7fb: c\r\n\r\n', 'AVX_H1_INVALID_HEADER_NAME');
  });
  test('unknown methods are a 501 unless any token is accepted', () => {
    rejects('BREW / HTTP/1.1\r\n\r\n', 'AVX_H1_UNKNOWN_METHOD', {}, 501);
    assert.equal(req('BREW / HTTP/1.1\r\n\r\n', { acceptAnyMethod: true }).messages[0].head.method, 'BREW');
  });
  test('chunk-size overflow and garbage', () => {
    rejects(
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n',
      'AVX_H1_CHUNK_SIZE_OVERFLOW',
    );
    rejects('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n', 'AVX_H1_INVALID_CHUNK_SIZE');
    rejects(
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n',
      'AVX_H1_INVALID_CHUNK_SIZE',
    );
    rejects(
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n',
      'AVX_H1_INVALID_CHUNK_DATA_END',
    );
    rejects(
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\x01\r\nhello\r\n',
      'AVX_H1_INVALID_CHUNK_EXTENSION',
    );
  });
  test('versions other than 1.x on the wire are refused with 505', () => {
    rejects('GET / HTTP/3.0\r\n\r\n', 'AVX_H1_UNSUPPORTED_VERSION', {}, 505);
    rejects('GET / HTTP/1.1x\r\n\r\n', 'AVX_H1_INVALID_START_LINE');
    rejects('GET / HTTP/11\r\n\r\n', 'AVX_H1_INVALID_VERSION');
  });
  test('data after a message that closes the connection', () => {
    rejects('GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n', 'AVX_H1_DATA_AFTER_CLOSE');
    assert.equal(
      req('GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n', {
        lenient: { keepAlive: true },
      }).messages.length,
      2,
    );
  });
  test('leniency is opt-in: Content-Length with Transfer-Encoding', () => {
    const { messages } = req(
      'POST / HTTP/1.1\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      {
        lenient: { chunkedLength: true },
      },
    );
    assert.equal(messages[0].head.chunked, true);
    assert.equal(messages[0].complete, true);
  });
});

describe('H1Parser limits', () => {
  const headOf = (size: number) => {
    // A request head of exactly `size` bytes.
    const base = 'GET / HTTP/1.1\r\nX: \r\n\r\n';
    return `GET / HTTP/1.1\r\nX: ${'a'.repeat(size - base.length)}\r\n\r\n`;
  };

  test('header section at the limit passes, one byte over fails with 431', () => {
    assert.equal(req(headOf(16384)).messages.length, 1);
    rejects(headOf(16385), 'AVX_H1_HEADER_TOO_LARGE', {}, 431);
    assert.equal(req(headOf(1000), { maxHeaderBytes: 1000 }).messages.length, 1);
    rejects(headOf(1001), 'AVX_H1_HEADER_TOO_LARGE', { maxHeaderBytes: 1000 });
  });

  test('an endless header line is refused as soon as it passes the limit', () => {
    const parser = H1Parser.request({ onHead() {}, onBody() {}, onTrailers() {}, onMessageComplete() {} });
    parser.execute(Buffer.from('GET / HTTP/1.1\r\nX: '));
    const chunk = Buffer.alloc(4096, 'a');
    assert.throws(
      () => {
        for (let k = 0; k < 10; k++) parser.execute(chunk);
      },
      { code: 'AVX_H1_HEADER_TOO_LARGE' },
    );
  });

  test('header count at the limit passes, one more fails with 431', () => {
    const head = (count: number) =>
      `GET / HTTP/1.1\r\n${Array.from({ length: count }, (_, k) => `H${k}: v\r\n`).join('')}\r\n`;
    assert.equal(req(head(100)).messages[0].head.headers.length, 200);
    rejects(head(101), 'AVX_H1_TOO_MANY_HEADERS', {}, 431);
    rejects(head(4), 'AVX_H1_TOO_MANY_HEADERS', { maxHeaderCount: 3 });
  });

  test('request-target at the limit passes, one byte over fails with 414', () => {
    const target = (len: number) => `GET /${'a'.repeat(len - 1)} HTTP/1.1\r\n\r\n`;
    assert.equal(req(target(8192)).messages[0].head.url.length, 8192);
    rejects(target(8193), 'AVX_H1_URI_TOO_LONG', {}, 414);
    rejects(target(65), 'AVX_H1_URI_TOO_LONG', { maxUriLength: 64 });
  });

  test('chunk extensions at the limit pass, one byte over fails', () => {
    const body = (extLen: number) =>
      `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(extLen - 1)}\r\nx\r\n0\r\n\r\n`;
    assert.equal(req(body(100), { maxChunkExtensionBytes: 100 }).messages[0].body, 'x');
    rejects(body(101), 'AVX_H1_CHUNK_EXTENSION_TOO_LARGE', { maxChunkExtensionBytes: 100 });
  });

  test('trailer sections obey the header limits', () => {
    const trailers = (count: number) =>
      `POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'T: v\r\n'.repeat(count)}\r\n`;
    assert.equal(req(trailers(3), { maxHeaderCount: 3 }).messages[0].trailers?.length, 6);
    rejects(trailers(4), 'AVX_H1_TOO_MANY_HEADERS', { maxHeaderCount: 3 });
  });
});

describe('H1Parser responses', () => {
  test('Content-Length and close-delimited bodies', () => {
    const { messages, parser } = res(
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 404 Not Found\r\n\r\nrest',
    );
    assert.equal(messages[0].body, 'ok');
    assert.equal(messages[1].head.status, 404);
    assert.equal(messages[1].head.reason, 'Not Found');
    assert.equal(messages[1].complete, false);
    parser.finish();
    assert.equal(messages[1].body, 'rest');
    assert.equal(messages[1].complete, true);
    assert.equal(messages[1].head.keepAlive, false);
  });

  test('1xx, 204 and 304 have no body; interim responses precede the final one', () => {
    const { messages } = res(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n' +
        'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
    );
    assert.deepEqual(
      messages.map((m) => [m.head.status, m.body, m.complete]),
      [
        [100, '', true],
        [103, '', true],
        [204, '', true],
        [304, '', true],
        [200, 'x', true],
      ],
    );
  });

  test('a response to HEAD has no body whatever its headers say', () => {
    const { messages } = res(
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
      (head) => (head.headers.length === 2 && head.headers[1] === '10' ? H1ResponseBody.None : undefined),
    );
    assert.deepEqual(
      messages.map((m) => m.body),
      ['', 'x'],
    );
  });

  test('101 Switching Protocols and a 2xx to CONNECT hand the connection over', () => {
    const a = res('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00');
    assert.equal(a.parser.upgraded, true);
    assert.equal(a.consumed, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'.length);
    const b = res('HTTP/1.1 200 Connection established\r\n\r\ntunnel', () => H1ResponseBody.Tunnel);
    assert.equal(b.parser.upgraded, true);
    assert.equal(b.messages[0].body, '');
  });

  test('a status line without a reason phrase is accepted', () => {
    assert.equal(res('HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n').messages[0].head.reason, '');
    assert.equal(res('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n').messages[0].head.status, 200);
  });

  test('a response Transfer-Encoding not ending in chunked is read until close', () => {
    const { messages, parser } = res('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc');
    parser.finish();
    assert.equal(messages[0].body, 'abc');
  });

  test('malformed status lines are rejected', () => {
    for (const line of [
      'HTTP/1.1 20 OK',
      'HTTP/1.1 2000 OK',
      'HTTP/1.1 abc OK',
      'HTTPS/1.1 200 OK',
      'HTTP/1.1  200 OK',
    ]) {
      assert.throws(() => res(`${line}\r\n\r\n`), H1ParseError, line);
    }
  });
});
