/**
 * HTTP/3 error paths (RFC 9114 §8): bytes from a hand-driven peer, each breaking one rule,
 * must produce the named connection error (a `close` command with that code) or stream error
 * (RESET_STREAM and STOP_SENDING with that code, the connection staying up).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3Connection } from '../../src/h3/h3-connection.js';
import { H3ErrorCode as E } from '../../src/h3/h3-error.js';
import {
  encodeCancelPushFrame,
  encodeDataFrame,
  encodeFrame,
  encodeGoawayFrame,
  encodeMaxPushIdFrame,
  encodePushPromiseFrame,
} from '../../src/h3/h3-frame-writer.js';
import { encodeSettingsFrame } from '../../src/h3/h3-settings.js';
import { controlStream, GET, headersFrame, uniStream } from './h3-test-pair.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
type Step = [streamId: number, bytes: Buffer, fin: boolean];

/** Feeds steps to a fresh core; returns it and the close code (if any). */
function run(role: 'client' | 'server', steps: Step[]): { conn: H3Connection; code: number | undefined } {
  const conn = new H3Connection({ role, maxControlFrameSize: 100 });
  conn.takeCommands();
  for (const [id, bytes, fin] of steps) conn.streamData(id, bytes, fin);
  const closes = conn.takeCommands().filter((c) => c.kind === 'close');
  return { conn, code: closes.length > 0 && closes[0]!.kind === 'close' ? closes[0]!.code : undefined };
}

// Client-initiated unidirectional streams (as seen by a server): 2, 6, 10, 14; server ones: 3, 7, 11.
const connectionErrors: [string, 'client' | 'server', Step[], number][] = [
  [
    'first control frame not SETTINGS (§6.2.1)',
    'server',
    [[2, uniStream(0, encodeGoawayFrame(0)), false]],
    E.H3_MISSING_SETTINGS,
  ],
  [
    'greasing frame before SETTINGS (§6.2.1)',
    'server',
    [[2, uniStream(0, encodeFrame(0x21, hex(''))), false]],
    E.H3_MISSING_SETTINGS,
  ],
  [
    'second control stream (§6.2.1)',
    'server',
    [
      [2, controlStream(), false],
      [6, controlStream(), false],
    ],
    E.H3_STREAM_CREATION_ERROR,
  ],
  ['control stream closed (§6.2.1)', 'server', [[2, controlStream(), true]], E.H3_CLOSED_CRITICAL_STREAM],
  [
    'QPACK encoder stream closed (RFC 9204 §4.2)',
    'server',
    [[6, uniStream(2), true]],
    E.H3_CLOSED_CRITICAL_STREAM,
  ],
  [
    'QPACK decoder stream closed (RFC 9204 §4.2)',
    'server',
    [[6, uniStream(3), true]],
    E.H3_CLOSED_CRITICAL_STREAM,
  ],
  [
    'second QPACK encoder stream (RFC 9204 §4.2)',
    'server',
    [
      [6, uniStream(2), false],
      [10, uniStream(2), false],
    ],
    E.H3_STREAM_CREATION_ERROR,
  ],
  [
    'second SETTINGS (§7.2.4)',
    'server',
    [[2, controlStream(encodeSettingsFrame({})), false]],
    E.H3_FRAME_UNEXPECTED,
  ],
  [
    'DATA on the control stream (§7.2.1)',
    'server',
    [[2, controlStream(encodeDataFrame(hex('00'))), false]],
    E.H3_FRAME_UNEXPECTED,
  ],
  [
    'HEADERS on the control stream (§7.2.2)',
    'server',
    [[2, controlStream(headersFrame(GET)), false]],
    E.H3_FRAME_UNEXPECTED,
  ],
  [
    'HTTP/2 PING type on the control stream (§7.2.8)',
    'server',
    [[2, controlStream(encodeFrame(6, hex(''))), false]],
    E.H3_FRAME_UNEXPECTED,
  ],
  [
    'reserved setting identifier (§7.2.4.1)',
    'server',
    [[2, uniStream(0, hex('04 02 02 00')), false]],
    E.H3_SETTINGS_ERROR,
  ],
  [
    'duplicate setting (§7.2.4.1)',
    'server',
    [[2, uniStream(0, hex('04 04 06 01 06 02')), false]],
    E.H3_SETTINGS_ERROR,
  ],
  [
    'GOAWAY longer than its id (§7.1)',
    'server',
    [[2, controlStream(hex('07 02 00 00')), false]],
    E.H3_FRAME_ERROR,
  ],
  [
    'SETTINGS over the frame limit (§10.5)',
    'server',
    [[2, uniStream(0, hex('04 4065')), false]],
    E.H3_EXCESSIVE_LOAD,
  ],
  [
    'MAX_PUSH_ID to a client (§7.2.7)',
    'client',
    [[3, controlStream(encodeMaxPushIdFrame(1)), false]],
    E.H3_FRAME_UNEXPECTED,
  ],
  [
    'MAX_PUSH_ID going down (§7.2.7)',
    'server',
    [[2, controlStream(encodeMaxPushIdFrame(5), encodeMaxPushIdFrame(4)), false]],
    E.H3_ID_ERROR,
  ],
  [
    'CANCEL_PUSH to a server that never pushed (§7.2.3)',
    'server',
    [[2, controlStream(encodeCancelPushFrame(0)), false]],
    E.H3_ID_ERROR,
  ],
  [
    'CANCEL_PUSH to a client that allowed no push (§7.2.3)',
    'client',
    [[3, controlStream(encodeCancelPushFrame(0)), false]],
    E.H3_ID_ERROR,
  ],
  [
    'GOAWAY with a non-request stream id (§7.2.6)',
    'client',
    [[3, controlStream(encodeGoawayFrame(2)), false]],
    E.H3_ID_ERROR,
  ],
  [
    'GOAWAY id going up (§5.2)',
    'client',
    [[3, controlStream(encodeGoawayFrame(4), encodeGoawayFrame(8)), false]],
    E.H3_ID_ERROR,
  ],
  [
    'push stream from a client (§6.2.2)',
    'server',
    [[2, uniStream(1, hex('00')), false]],
    E.H3_STREAM_CREATION_ERROR,
  ],
  ['push stream without MAX_PUSH_ID (§4.6)', 'client', [[3, uniStream(1, hex('00')), false]], E.H3_ID_ERROR],
  [
    'server-initiated bidirectional stream (§6.1)',
    'client',
    [[1, headersFrame([':status', '200']), false]],
    E.H3_STREAM_CREATION_ERROR,
  ],
  ['DATA before HEADERS (§4.1)', 'server', [[0, encodeDataFrame(hex('00')), false]], E.H3_FRAME_UNEXPECTED],
  [
    'HEADERS after trailers (§4.1)',
    'server',
    [[0, Buffer.concat([headersFrame(GET), headersFrame(['x-t', '1']), headersFrame(['x-t', '2'])]), false]],
    E.H3_FRAME_UNEXPECTED,
  ],
  [
    'DATA after trailers (§4.1)',
    'server',
    [[0, Buffer.concat([headersFrame(GET), headersFrame(['x-t', '1']), encodeDataFrame(hex('00'))]), false]],
    E.H3_FRAME_UNEXPECTED,
  ],
  [
    'SETTINGS on a request stream (§7.2.4)',
    'server',
    [[0, encodeSettingsFrame({}), false]],
    E.H3_FRAME_UNEXPECTED,
  ],
  [
    'GOAWAY on a request stream (§7.2.6, erratum 7780)',
    'server',
    [[0, encodeGoawayFrame(0), false]],
    E.H3_FRAME_UNEXPECTED,
  ],
  [
    'PUSH_PROMISE to a server (§7.2.5)',
    'server',
    [[0, encodePushPromiseFrame(0, hex('0000')), false]],
    E.H3_FRAME_UNEXPECTED,
  ],
  [
    'stream ends inside a frame (§7.1)',
    'server',
    [[0, Buffer.concat([headersFrame(GET), hex('00 05 61')]), true]],
    E.H3_FRAME_ERROR,
  ],
  [
    'HEADERS over the frame limit (§10.5)',
    'server',
    [[0, hex('01 80 01 00 01'), false]],
    E.H3_EXCESSIVE_LOAD,
  ],
  [
    'bad QPACK field section (RFC 9204 §6)',
    'server',
    [[0, encodeFrame(1, hex('0000 ff63')), false]],
    E.QPACK_DECOMPRESSION_FAILED,
  ],
  [
    'bad QPACK encoder instruction (RFC 9204 §6)',
    'server',
    [[6, uniStream(2, hex('00')), false]],
    E.QPACK_ENCODER_STREAM_ERROR,
  ],
  [
    'bad QPACK decoder instruction (RFC 9204 §6)',
    'server',
    [[6, uniStream(3, hex('81')), false]],
    E.QPACK_DECODER_STREAM_ERROR,
  ],
];

for (const [name, role, steps, code] of connectionErrors) {
  test(`connection error: ${name}`, () => {
    const { conn, code: got } = run(role, steps);
    assert.equal(got, code, `close code 0x${got?.toString(16)}`);
    assert.equal(conn.closed, true);
    assert.equal(conn.error?.errorCode, code);
    // Nothing more is processed.
    assert.deepEqual(conn.streamData(0, headersFrame(GET), true), []);
  });
}

test('connection error: PUSH_PROMISE on a request stream without MAX_PUSH_ID (§7.2.5)', () => {
  const client = new H3Connection({ role: 'client' });
  const id = client.sendRequest(GET);
  const events = client.streamData(id, encodePushPromiseFrame(0, hex('0000')), false);
  assert.equal(events[0]?.type, 'connectionError');
  assert.equal(client.error?.errorCode, E.H3_ID_ERROR);
});

test('connection error: our critical streams reset or stopped (§6.2.1)', () => {
  const server = new H3Connection({ role: 'server' });
  server.streamData(2, controlStream(), false);
  server.streamReset(2, 0);
  assert.equal(server.error?.errorCode, E.H3_CLOSED_CRITICAL_STREAM);
  const other = new H3Connection({ role: 'server' });
  other.stopSending(3, 0); // our control stream
  assert.equal(other.error?.errorCode, E.H3_CLOSED_CRITICAL_STREAM);
});

test('unknown and greasing stream and frame types are ignored (§6.2, §7.2.8, §9)', () => {
  const { conn, code } = run('server', [
    [2, controlStream(encodeFrame(0x21, hex('abcd')), encodeFrame(0x1234, hex('00'))), false],
    [6, uniStream(0x21, hex('ffffff')), false],
    [10, Buffer.from([0x40, 0x54, 0x01]), true],
    [0, Buffer.concat([encodeFrame(0x40, hex('01')), headersFrame(GET), encodeFrame(0x5f, hex(''))]), true],
  ]);
  assert.equal(code, undefined);
  assert.equal(conn.closed, false);
  // The unknown uni streams were refused with STOP_SENDING H3_STREAM_CREATION_ERROR (§6.2).
  const fresh = new H3Connection({ role: 'server' });
  fresh.takeCommands();
  fresh.streamData(6, uniStream(0x21, hex('ff')), false);
  assert.deepEqual(fresh.takeCommands(), [
    { kind: 'stopSending', streamId: 6, code: E.H3_STREAM_CREATION_ERROR },
  ]);
  // A stream closed before its type arrived is tolerated (§6.2).
  fresh.streamData(10, hex(''), true);
  assert.equal(fresh.closed, false);
});

/** A request stream error: RESET_STREAM and STOP_SENDING with the code, a streamError event. */
function expectStreamError(bytes: Buffer, fin: boolean, code: number, why: string): void {
  const server = new H3Connection({ role: 'server' });
  server.takeCommands();
  const events = server.streamData(0, bytes, fin);
  assert.equal(server.closed, false, why);
  const errors = events.filter((e) => e.type === 'streamError');
  assert.equal(errors.length, 1, why);
  assert.equal(errors[0]!.type === 'streamError' && errors[0]!.error.errorCode, code, why);
  const commands = server.takeCommands().filter((c) => c.kind === 'reset' || c.kind === 'stopSending');
  assert.deepEqual(
    commands.map((c) => c.kind),
    fin ? ['reset'] : ['stopSending', 'reset'],
    why,
  );
  for (const c of commands) assert.equal('code' in c && c.code, code, why);
  // The connection goes on: another request on stream 4 is fine.
  const next = server.streamData(4, headersFrame(GET, 4), true);
  assert.deepEqual(
    next.map((e) => e.type),
    ['headers', 'end'],
    why,
  );
}

const REQ = (fields: string[]) => headersFrame(fields);
const malformed: [string, string[]][] = [
  ['uppercase field name (§4.2)', [...GET, 'X-Upper', '1']],
  ['connection-specific field (§4.2)', [...GET, 'connection', 'close']],
  ['transfer-encoding (§4.2)', [...GET, 'transfer-encoding', 'chunked']],
  ['TE other than trailers (§4.2)', [...GET, 'te', 'gzip']],
  ['missing :path (§4.3.1)', [':method', 'GET', ':scheme', 'https', ':authority', 'a']],
  ['missing :method (§4.3.1)', [':scheme', 'https', ':authority', 'a', ':path', '/']],
  ['missing :authority and Host (§4.3.1)', [':method', 'GET', ':scheme', 'https', ':path', '/']],
  [':authority and Host differ (§4.3.1)', [...GET, 'host', 'other.example']],
  ['duplicate :method (§4.3.1)', [':method', 'GET', ...GET]],
  [
    'pseudo-header after a regular field (§4.3)',
    [':method', 'GET', 'accept', '*/*', ':scheme', 'https', ':authority', 'a', ':path', '/'],
  ],
  ['response pseudo-header in a request (§4.3)', [...GET.slice(0, 2), ':status', '200', ...GET.slice(2)]],
  ['CONNECT with :path (§4.4)', [':method', 'CONNECT', ':authority', 'a:443', ':path', '/']],
  [
    ':protocol without the setting (RFC 9220 §3)',
    [...GET.slice(0, 6), ':protocol', 'websocket', ':path', '/'],
  ],
  ['value with a line feed (§4.2)', [...GET, 'x-a', 'b\nc']],
  ['value with a leading space (§4.2)', [...GET, 'x-a', ' b']],
];

for (const [why, fields] of malformed) {
  test(`stream error H3_MESSAGE_ERROR: ${why}`, () =>
    expectStreamError(REQ(fields), false, E.H3_MESSAGE_ERROR, why));
}

test('stream errors: trailers, content-length, incomplete request (§4.1, §4.1.2)', () => {
  const withLength = REQ([...GET, 'content-length', '3']);
  expectStreamError(
    Buffer.concat([REQ(GET), REQ([':path', '/'])]),
    false,
    E.H3_MESSAGE_ERROR,
    'pseudo-header in trailers',
  );
  expectStreamError(
    Buffer.concat([withLength, encodeDataFrame(hex('01020304'))]),
    false,
    E.H3_MESSAGE_ERROR,
    'DATA beyond content-length',
  );
  expectStreamError(
    Buffer.concat([withLength, encodeDataFrame(hex('0102'))]),
    true,
    E.H3_MESSAGE_ERROR,
    'DATA short of content-length',
  );
  expectStreamError(
    REQ([...GET, 'content-length', '1', 'content-length', '2']),
    false,
    E.H3_MESSAGE_ERROR,
    'conflicting content-length',
  );
  expectStreamError(hex(''), true, E.H3_REQUEST_INCOMPLETE, 'stream ended before HEADERS');
  // Right length across two DATA frames: fine.
  const server = new H3Connection({ role: 'server' });
  const events = server.streamData(
    0,
    Buffer.concat([withLength, encodeDataFrame(hex('01')), encodeDataFrame(hex('0203'))]),
    true,
  );
  assert.deepEqual(
    events.map((e) => e.type),
    ['headers', 'data', 'data', 'end'],
  );
});

test('client: a response to HEAD keeps its content-length without DATA; 101 is malformed (§4.1.2, §4.5)', () => {
  const client = new H3Connection({ role: 'client' });
  const id = client.sendRequest([':method', 'HEAD', ...GET.slice(2)]);
  const events = client.streamData(id, headersFrame([':status', '200', 'content-length', '1000'], id), true);
  assert.deepEqual(
    events.map((e) => e.type),
    ['headers', 'end'],
  );
  const id2 = client.sendRequest(GET);
  const bad = client.streamData(id2, headersFrame([':status', '101'], id2), true);
  assert.equal(bad[0]?.type === 'streamError' && bad[0].error.errorCode, E.H3_MESSAGE_ERROR);
});

test('a field section over our SETTINGS_MAX_FIELD_SECTION_SIZE is refused (§4.2.2)', () => {
  const server = new H3Connection({
    role: 'server',
    maxFieldSectionSize: 200,
    maxFieldSectionFrameSize: 4096,
  });
  const events = server.streamData(0, REQ([...GET, 'x-big', 'v'.repeat(300)]), true);
  assert.equal(events[0]?.type === 'streamError' && events[0].error.errorCode, E.H3_EXCESSIVE_LOAD);
  assert.equal(server.closed, false);
});

test('API misuse throws and changes nothing', () => {
  const client = new H3Connection({ role: 'client' });
  assert.throws(() => client.sendRequest([':method', 'GET']), /malformed request/);
  assert.throws(() => client.sendResponse(0, [':status', '200']), /headers with sendRequest/);
  const id = client.sendRequest(GET);
  assert.throws(() => client.sendData(id, hex('00')), /not open for sending/);
  const server = new H3Connection({ role: 'server' });
  assert.throws(() => server.sendRequest(GET), /only a client/);
  server.streamData(0, REQ(GET), true);
  assert.throws(() => server.sendData(0, hex('00')), /DATA only after/);
  assert.throws(() => server.sendHeaders(0, [':status', '103'], true), /informational/);
  server.sendResponse(0, [':status', '200']);
  assert.throws(() => server.sendResponse(0, [':status', '200']), /not open for sending/);
  assert.equal(server.activeStreamCount, 0);
});
