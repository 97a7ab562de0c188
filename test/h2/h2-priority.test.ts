/**
 * RFC 9218 priorities in the sans-I/O core: the `priority` field and PRIORITY_UPDATE frame
 * (§4, §7.1) decide which stream's queued DATA goes first (lower urgency first; non-incremental
 * one by one in stream-id order, incremental round-robin), and RFC 9113 PRIORITY frames are
 * validated and otherwise ignored (§5.3.2, §6.3). Byte vectors with our writer and encoder.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2Connection } from '../../src/h2/h2-connection.js';
import type { H2ConnectionOptions } from '../../src/h2/h2-connection-options.js';
import { H2ErrorCode } from '../../src/h2/h2-error-codes.js';
import { H2FrameType, H2Setting } from '../../src/h2/h2-frame-types.js';
import { H2FrameWriter } from '../../src/h2/h2-frame-writer.js';
import type { H2Stream } from '../../src/h2/h2-stream.js';
import { parsePriorityField, serializePriorityField } from '../../src/h2/priority-field.js';
import { FrameLog, goawayCode, RecordingHandler, ScriptedPeer } from './h2-test-peer.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

function out(conn: H2Connection): FrameLog {
  return new FrameLog().feed(conn.takeOutgoing());
}

/**
 * A server whose client announced large stream windows, so only the connection window (65535)
 * limits sending; requests on `streams` with the given `priority` field values ('' for none).
 */
function serverWithRequests(priorities: [number, string][], options: H2ConnectionOptions = {}) {
  const handler = new RecordingHandler();
  const conn = new H2Connection('server', handler, options);
  conn.start(0);
  conn.takeOutgoing();
  const peer = new ScriptedPeer();
  peer.writer.bytes(PREFACE);
  peer.writer.settings([H2Setting.INITIAL_WINDOW_SIZE, 1 << 24]);
  for (const [id, priority] of priorities) {
    peer.request(id, '/', true, priority === '' ? [] : ['priority', priority]);
  }
  conn.receive(peer.bytes(), 0);
  out(conn);
  const stream = (id: number) => handler.headers.find((h) => h.stream.id === id)!.stream;
  return { conn, handler, peer, stream };
}

/** Stream ids of the DATA frames in `log`, runs collapsed: [3, 3, 7] -> [3, 7]. */
function dataOrder(log: FrameLog): number[] {
  const ids: number[] = [];
  for (const f of log.ofType(H2FrameType.DATA)) if (ids.at(-1) !== f.streamId) ids.push(f.streamId);
  return ids;
}

/** Exhausts the connection send window with 65535 octets on a throwaway request stream. */
function fillWindow(conn: H2Connection, filler: H2Stream): void {
  conn.sendHeaders(filler, [':status', '200'], false);
  conn.sendData(filler, Buffer.alloc(65535), false);
  assert.equal(conn.sendWindow, 0);
}

/** Answers each of `ids` with a 200 head and `size` octets of DATA, queued behind the window. */
function answer(conn: H2Connection, stream: (id: number) => H2Stream, ids: number[], size: number): void {
  for (const id of ids) {
    conn.sendHeaders(stream(id), [':status', '200'], false);
    conn.sendData(stream(id), Buffer.alloc(size), true);
  }
}

test('priority field: urgency and incremental parsed, defaults u=3 and not incremental (RFC 9218 §4)', () => {
  assert.deepEqual(parsePriorityField('u=0'), { urgency: 0, incremental: false });
  assert.deepEqual(parsePriorityField('u=5, i'), { urgency: 5, incremental: true });
  assert.deepEqual(parsePriorityField('i=?0, u=7'), { urgency: 7, incremental: false });
  assert.deepEqual(parsePriorityField('u=9, x=1'), { urgency: 3, incremental: false });
  assert.deepEqual(parsePriorityField(''), { urgency: 3, incremental: false });
});

test('scheduling: queued DATA goes out lowest urgency first, whatever the order it was queued in', () => {
  const { conn, peer, stream } = serverWithRequests([
    [1, ''],
    [3, 'u=5'],
    [5, 'u=0'],
    [7, ''],
    [9, 'u=1'],
  ]);
  fillWindow(conn, stream(1));
  for (const id of [3, 5, 7, 9]) {
    conn.sendHeaders(stream(id), [':status', '200'], false);
    conn.sendData(stream(id), Buffer.alloc(40000, id), true);
  }
  assert.deepEqual(dataOrder(out(conn)), [1], 'only the filler had window');
  peer.writer.windowUpdate(0, 1 << 20);
  conn.receive(peer.bytes(), 1);
  // u=0 (5), u=1 (9), u=3 (7), u=5 (3): each whole before the next.
  assert.deepEqual(dataOrder(out(conn)), [5, 9, 7, 3]);
});

test('scheduling: non-incremental streams of one urgency are sent one by one in stream-id order', () => {
  const { conn, peer, stream } = serverWithRequests([
    [1, ''],
    [3, 'u=2'],
    [5, 'u=2'],
    [7, 'u=2'],
  ]);
  fillWindow(conn, stream(1));
  for (const id of [7, 3, 5]) {
    conn.sendHeaders(stream(id), [':status', '200'], false);
    conn.sendData(stream(id), Buffer.alloc(40000), true);
  }
  out(conn);
  peer.writer.windowUpdate(0, 1 << 20);
  conn.receive(peer.bytes(), 1);
  assert.deepEqual(dataOrder(out(conn)), [3, 5, 7]);
});

test('scheduling: incremental streams of one urgency share the window round-robin', () => {
  const { conn, peer, stream } = serverWithRequests([
    [1, ''],
    [3, 'u=2, i'],
    [5, 'u=2, i'],
  ]);
  fillWindow(conn, stream(1));
  for (const id of [3, 5]) {
    conn.sendHeaders(stream(id), [':status', '200'], false);
    conn.sendData(stream(id), Buffer.alloc(50000), true);
  }
  out(conn);
  peer.writer.windowUpdate(0, 1 << 20);
  conn.receive(peer.bytes(), 1);
  const order = out(conn)
    .ofType(H2FrameType.DATA)
    .map((f) => f.streamId);
  assert.deepEqual(order.slice(0, 6), [3, 5, 3, 5, 3, 5]);
});

test('scheduling: a stream blocked by its own window lets the next urgency send (work-conserving)', () => {
  const handler = new RecordingHandler();
  const conn = new H2Connection('server', handler);
  conn.start(0);
  conn.takeOutgoing();
  const peer = new ScriptedPeer();
  peer.writer.bytes(PREFACE);
  peer.writer.settings([H2Setting.INITIAL_WINDOW_SIZE, 1000]);
  peer.request(1, '/', true, ['priority', 'u=0']).request(3, '/', true, ['priority', 'u=7']);
  conn.receive(peer.bytes(), 0);
  out(conn);
  const [s1, s3] = [handler.headers[0]!.stream, handler.headers[1]!.stream];
  conn.sendHeaders(s1, [':status', '200'], false);
  conn.sendData(s1, Buffer.alloc(5000), true);
  conn.sendHeaders(s3, [':status', '200'], false);
  conn.sendData(s3, Buffer.alloc(500), true);
  const log = out(conn);
  const bytes = (id: number) =>
    log
      .ofType(H2FrameType.DATA)
      .filter((f) => f.streamId === id)
      .reduce((n, f) => n + f.payload.length, 0);
  assert.equal(bytes(1), 1000);
  assert.equal(bytes(3), 500);
});

test('PRIORITY_UPDATE moves a queued stream ahead; one sent before the request applies when it opens', () => {
  const handler = new RecordingHandler();
  const conn = new H2Connection('server', handler);
  conn.start(0);
  conn.takeOutgoing();
  const peer = new ScriptedPeer();
  peer.writer.bytes(PREFACE);
  peer.writer.settings([H2Setting.INITIAL_WINDOW_SIZE, 1 << 24]);
  // RFC 9218 §7.1: an update may arrive before its request (stream 7 is idle here).
  peer.writer.priorityUpdate(7, 'u=1');
  peer.request(1).request(3).request(5).request(7, '/', true, ['priority', 'u=6']);
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors.length, 0, handler.errors[0]?.message);
  const stream = (id: number) => handler.headers.find((h) => h.stream.id === id)!.stream;
  assert.deepEqual(stream(7).priority, { urgency: 1, incremental: false }, 'the early update wins');
  fillWindow(conn, stream(1));
  for (const id of [3, 5, 7]) {
    conn.sendHeaders(stream(id), [':status', '200'], false);
    conn.sendData(stream(id), Buffer.alloc(30000), true);
  }
  out(conn);
  peer.writer.priorityUpdate(5, 'u=0');
  peer.writer.windowUpdate(0, 1 << 20);
  conn.receive(peer.bytes(), 1);
  assert.deepEqual(stream(5).priority, { urgency: 0, incremental: false });
  assert.deepEqual(dataOrder(out(conn)), [5, 7, 3]);
});

test('PRIORITY_UPDATE errors: not on stream 0, for stream 0, too short, for an unpromised push stream, sent by a server', () => {
  const cases: [string, (w: H2FrameWriter) => void, number][] = [
    ['on a stream', (w) => w.raw(H2FrameType.PRIORITY_UPDATE, 0, 1, Buffer.from([0, 0, 0, 1, 0x75])), 1],
    ['for stream 0', (w) => w.priorityUpdate(0, 'u=1'), 1],
    ['too short', (w) => w.raw(H2FrameType.PRIORITY_UPDATE, 0, 0, Buffer.from([0, 0, 1])), 6],
    ['unpromised push stream', (w) => w.priorityUpdate(2, 'u=1'), 1],
  ];
  for (const [name, write, code] of cases) {
    const handler = new RecordingHandler();
    const conn = new H2Connection('server', handler);
    conn.start(0);
    const peer = new ScriptedPeer().preface();
    write(peer.writer);
    conn.receive(peer.bytes(), 0);
    assert.equal(handler.errors[0]?.errorCode, code, name);
  }
  const handler = new RecordingHandler();
  const client = new H2Connection('client', handler);
  client.start(0);
  const w = new H2FrameWriter();
  w.settings([]);
  w.priorityUpdate(1, 'u=0');
  client.receive(Buffer.concat(w.take()), 0);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.PROTOCOL_ERROR);
});

test('PRIORITY frames: a valid one on an idle stream is ignored; self-dependency resets the stream', () => {
  const { conn, handler, peer } = serverWithRequests([[1, '']]);
  peer.writer.priority(9, 1, false, 16);
  peer.writer.priority(1, 1, false, 16);
  conn.receive(peer.bytes(), 1);
  assert.equal(handler.errors.length, 0);
  const rst = out(conn).ofType(H2FrameType.RST_STREAM);
  assert.deepEqual(
    rst.map((f) => [f.streamId, f.payload.readUInt32BE(0)]),
    [[1, H2ErrorCode.PROTOCOL_ERROR]],
  );
  // Stream 9 was only prioritised, not opened: it can still be opened.
  conn.receive(peer.request(9).bytes(), 2);
  assert.equal(handler.errors.length, 0, handler.errors[0]?.message);
  assert.equal(handler.headers.at(-1)?.stream.id, 9);
});

test('regression: a PRIORITY frame of bad length on an open stream resets AND closes that stream', () => {
  // It used to send RST_STREAM FRAME_SIZE_ERROR but keep the stream open, so the driver went
  // on answering a stream the peer had been told was gone.
  const { conn, handler } = serverWithRequests([[1, '']]);
  const peer = new ScriptedPeer();
  peer.writer.raw(H2FrameType.PRIORITY, 0, 1, Buffer.alloc(4));
  conn.receive(peer.bytes(), 1);
  const rst = out(conn).ofType(H2FrameType.RST_STREAM);
  assert.equal(rst[0]?.payload.readUInt32BE(0), H2ErrorCode.FRAME_SIZE_ERROR);
  assert.deepEqual(handler.closed, [{ id: 1, code: H2ErrorCode.FRAME_SIZE_ERROR, byPeer: false }]);
  assert.equal(conn.activeStreams, 0);
});

test('regression: PRIORITY frames that each earn an RST_STREAM are rate limited (no free amplification)', () => {
  const handler = new RecordingHandler();
  const conn = new H2Connection('server', handler, { maxResetsPerSecond: 10, resetBurst: 20 });
  conn.start(0);
  conn.takeOutgoing();
  const peer = new ScriptedPeer().preface();
  for (let id = 1; id < 200; id += 2) peer.writer.raw(H2FrameType.PRIORITY, 0, id, Buffer.alloc(4));
  conn.receive(peer.bytes(), 0);
  assert.equal(handler.errors[0]?.errorCode, H2ErrorCode.ENHANCE_YOUR_CALM);
  const log = out(conn);
  assert.ok(log.ofType(H2FrameType.RST_STREAM).length <= 21);
  assert.equal(goawayCode(log), H2ErrorCode.ENHANCE_YOUR_CALM);
});

test('priority field: serialized as `u=N` and `i` when incremental, and parsed back (RFC 9218 §4)', () => {
  assert.equal(serializePriorityField({ urgency: 1, incremental: true }), 'u=1, i');
  assert.equal(serializePriorityField({ urgency: 3, incremental: false }), 'u=3');
  for (let u = 0; u < 8; u++) {
    for (const incremental of [false, true]) {
      const p = { urgency: u, incremental };
      assert.deepEqual(parsePriorityField(serializePriorityField(p)), p);
    }
  }
  assert.throws(() => serializePriorityField({ urgency: 8, incremental: false }), RangeError);
  assert.throws(() => serializePriorityField({ urgency: 1.5, incremental: false }), RangeError);
});

test("a response's own priority field reorders its DATA, merged over the request's (RFC 9218 §5, §8)", () => {
  const { conn, stream } = serverWithRequests([
    [1, ''],
    [3, ''],
    [5, 'u=5, i'],
    [7, ''],
  ]);
  fillWindow(conn, stream(1));
  answer(conn, stream, [3, 7], 30000);
  // The server marks stream 5 urgent in its response head (§5).
  conn.sendHeaders(stream(5), [':status', '200', 'priority', 'u=1'], false);
  conn.sendData(stream(5), Buffer.alloc(30000), true);
  const log = out(conn);
  // The field still goes to the client (§5).
  const block = log.ofType(H2FrameType.HEADERS).find((f) => f.streamId === 5)!.payload;
  assert.ok(block.includes(Buffer.from('u=1')), 'the priority field is in the response head');
  // u=1 replaces the client's u=5; the client's `i` is kept: member by member.
  assert.deepEqual(stream(5).priority, { urgency: 1, incremental: true });
  assert.deepEqual(stream(3).priority, undefined);
  const peer = new ScriptedPeer();
  peer.writer.windowUpdate(0, 1 << 20);
  conn.receive(peer.bytes(), 1);
  assert.deepEqual(dataOrder(out(conn)), [5, 3, 7]);
});

test('a response priority field still wins after a later PRIORITY_UPDATE; other members follow the client', () => {
  const { conn, stream } = serverWithRequests([
    [1, ''],
    [3, ''],
    [5, ''],
  ]);
  fillWindow(conn, stream(1));
  conn.sendHeaders(stream(3), [':status', '200', 'priority', 'u=2'], false);
  conn.sendData(stream(3), Buffer.alloc(30000), true);
  conn.sendHeaders(stream(5), [':status', '200'], false);
  conn.sendData(stream(5), Buffer.alloc(30000), true);
  out(conn);
  const peer = new ScriptedPeer();
  // The client asks for u=7 on 3 and u=0 on 5: 3 keeps the server's u=2, takes the client's `i`.
  peer.writer.priorityUpdate(3, 'u=7, i');
  peer.writer.priorityUpdate(5, 'u=0');
  peer.writer.windowUpdate(0, 1 << 20);
  conn.receive(peer.bytes(), 1);
  assert.deepEqual(stream(3).priority, { urgency: 2, incremental: true });
  assert.deepEqual(stream(5).priority, { urgency: 0, incremental: false });
  assert.deepEqual(dataOrder(out(conn)), [5, 3]);
});

test('client updatePriority: PRIORITY_UPDATE on stream 0 with the stream id and field value (RFC 9218 §7.1)', () => {
  const handler = new RecordingHandler();
  const client = new H2Connection('client', handler);
  client.start(0);
  client.takeOutgoing();
  const s1 = client.openStream([':method', 'GET', ':scheme', 'http', ':authority', 'x', ':path', '/'], true);
  client.takeOutgoing();
  assert.equal(client.updatePriority(s1, { urgency: 1, incremental: true }), true);
  const bytes = Buffer.concat(client.takeOutgoing());
  const value = Buffer.from('u=1, i', 'latin1');
  // RFC 9218 §7.1: length, type 0x10, flags 0, stream 0, then the prioritized id and the value.
  const expected = Buffer.alloc(9 + 4);
  expected.writeUIntBE(4 + value.length, 0, 3);
  expected[3] = 0x10;
  expected[4] = 0;
  expected.writeUInt32BE(0, 5);
  expected.writeUInt32BE(1, 9);
  assert.deepEqual(bytes, Buffer.concat([expected, value]));
  assert.deepEqual(s1.priority, { urgency: 1, incremental: true });
  // A closed stream is forgotten: nothing is sent.
  client.resetStream(s1);
  client.takeOutgoing();
  assert.equal(client.updatePriority(s1, { urgency: 0, incremental: false }), false);
  assert.equal(client.takeOutgoing().length, 0);
  // Only clients send it.
  const { conn, stream } = serverWithRequests([[1, '']]);
  assert.throws(() => conn.updatePriority(stream(1), { urgency: 0, incremental: false }), {
    code: 'AVX_H2_CLIENT_ONLY',
    message: /RFC 9218 §7.1/,
  });
});

test('client updatePriority reaches a server core: its scheduler moves the stream', () => {
  const { conn: server, stream } = serverWithRequests([
    [1, ''],
    [3, ''],
    [5, ''],
  ]);
  fillWindow(server, stream(1));
  answer(server, stream, [3, 5], 30000);
  out(server);
  // A client core writes the frame; the server core reads it.
  const client = new H2Connection('client', new RecordingHandler());
  client.start(0);
  client.takeOutgoing();
  client.nextLocalStreamId = 5;
  const s5 = client.openStream([':method', 'GET', ':scheme', 'http', ':authority', 'x', ':path', '/'], true);
  client.takeOutgoing();
  client.updatePriority(s5, { urgency: 0, incremental: false });
  server.receive(Buffer.concat(client.takeOutgoing()), 1);
  assert.deepEqual(stream(5).priority, { urgency: 0, incremental: false });
  const peer = new ScriptedPeer();
  peer.writer.windowUpdate(0, 1 << 20);
  server.receive(peer.bytes(), 2);
  assert.deepEqual(dataOrder(out(server)), [5, 3]);
});
