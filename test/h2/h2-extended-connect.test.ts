/**
 * Extended CONNECT in the sans-I/O HTTP/2 core (RFC 8441 §3, §4): the server announces
 * SETTINGS_ENABLE_CONNECT_PROTOCOL only when asked; `:protocol` is accepted on a CONNECT with
 * `:scheme` and `:path` once announced, and is a malformed request (stream PROTOCOL_ERROR, the
 * connection and its other streams untouched) otherwise; a client learns the server's value
 * from its SETTINGS, which may not withdraw it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H2Connection } from '../../src/h2/h2-connection.js';
import { H2ErrorCode } from '../../src/h2/h2-error-codes.js';
import { checkRequestFields, type H2FieldFacts } from '../../src/h2/h2-field-validation.js';
import { H2_CLIENT_PREFACE, H2FrameType, H2Setting } from '../../src/h2/h2-frame-types.js';
import { FrameLog, goawayCode, RecordingHandler, ScriptedPeer } from './h2-test-peer.js';

function server(enableConnectProtocol?: boolean) {
  const handler = new RecordingHandler();
  const conn = new H2Connection('server', handler, { enableConnectProtocol });
  conn.start(0);
  const opening = new FrameLog().feed(conn.takeOutgoing());
  return { handler, conn, opening };
}

/** The SETTINGS parameters of the first SETTINGS frame in `log`. */
function settingsOf(log: FrameLog): Map<number, number> {
  const frame = log.ofType(H2FrameType.SETTINGS).find((f) => (f.flags & 1) === 0)!;
  const out = new Map<number, number>();
  for (let p = 0; p < frame.payload.length; p += 6)
    out.set(frame.payload.readUInt16BE(p), frame.payload.readUInt32BE(p + 2));
  return out;
}

/** A request with exactly these pseudo-header fields (no defaults added). */
function request(peer: ScriptedPeer, streamId: number, fields: string[], endStream = false): void {
  peer.writer.headers(streamId, peer.encoder.encode(fields), endStream, 16384);
}

const WEBSOCKET = [
  ':method',
  'CONNECT',
  ':protocol',
  'websocket',
  ':scheme',
  'https',
  ':path',
  '/chat?room=1',
  ':authority',
  'example.com',
  'sec-websocket-version',
  '13',
];

function resets(conn: H2Connection): Map<number, number> {
  const log = new FrameLog().feed(conn.takeOutgoing());
  const out = new Map<number, number>();
  for (const f of log.ofType(H2FrameType.RST_STREAM)) out.set(f.streamId, f.payload.readUInt32BE(0));
  return out;
}

test('SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 is announced only with enableConnectProtocol (RFC 8441 §3)', () => {
  assert.equal(settingsOf(server(true).opening).get(H2Setting.ENABLE_CONNECT_PROTOCOL), 1);
  assert.equal(settingsOf(server(false).opening).has(H2Setting.ENABLE_CONNECT_PROTOCOL), false);
  assert.equal(settingsOf(server().opening).has(H2Setting.ENABLE_CONNECT_PROTOCOL), false);
  // A client never announces it.
  const client = new H2Connection('client', new RecordingHandler(), { enableConnectProtocol: true });
  client.start(0);
  const bytes = Buffer.concat(client.takeOutgoing()).subarray(H2_CLIENT_PREFACE.length);
  assert.equal(settingsOf(new FrameLog().feed([bytes])).has(H2Setting.ENABLE_CONNECT_PROTOCOL), false);
});

test('an extended CONNECT with :protocol, :scheme, :path and :authority is accepted once announced (RFC 8441 §4)', () => {
  const { conn, handler } = server(true);
  const peer = new ScriptedPeer().preface();
  request(peer, 1, WEBSOCKET);
  peer.writer.data(1, Buffer.from([0x81, 0x80, 1, 2, 3, 4]), false);
  conn.receive(peer.bytes(), 1);
  assert.equal(handler.headers.length, 1);
  assert.deepEqual(handler.headers[0]!.fields.slice(0, 4), [':method', 'CONNECT', ':protocol', 'websocket']);
  assert.equal(handler.data[0]!.data.length, 6);
  assert.equal(resets(conn).size, 0);
  // The tunnel answers 200 and both sides keep sending.
  const stream = handler.headers[0]!.stream;
  conn.sendHeaders(stream, [':status', '200'], false);
  assert.equal(conn.sendData(stream, Buffer.from([0x81, 0]), false), true);
  const log = new FrameLog().feed(conn.takeOutgoing());
  assert.equal(log.ofType(H2FrameType.HEADERS)[0]!.flags & 1, 0);
  assert.equal(log.ofType(H2FrameType.DATA)[0]!.payload.length, 2);
});

test('a :protocol we did not announce is malformed: RST_STREAM PROTOCOL_ERROR, other streams go on (RFC 8441 §4)', () => {
  const { conn, handler } = server(false);
  const peer = new ScriptedPeer().preface();
  request(peer, 1, WEBSOCKET);
  peer.request(3, '/after');
  conn.receive(peer.bytes(), 1);
  assert.deepEqual([...resets(conn)], [[1, H2ErrorCode.PROTOCOL_ERROR]]);
  assert.deepEqual(
    handler.headers.map((h) => h.stream.id),
    [3],
  );
  assert.equal(handler.errors.length, 0);
});

test(':protocol on a method other than CONNECT, twice, invalid, or without :path or :scheme is malformed (RFC 8441 §4)', () => {
  const { conn, handler } = server(true);
  const peer = new ScriptedPeer().preface();
  const cases: string[][] = [
    [':method', 'GET', ':protocol', 'websocket', ':scheme', 'http', ':path', '/', ':authority', 'a'],
    [
      ':method',
      'CONNECT',
      ':protocol',
      'websocket',
      ':protocol',
      'websocket',
      ':scheme',
      'http',
      ':path',
      '/',
    ],
    [':method', 'CONNECT', ':protocol', 'web socket', ':scheme', 'http', ':path', '/', ':authority', 'a'],
    [':method', 'CONNECT', ':protocol', 'websocket', ':scheme', 'http', ':authority', 'a'],
    [':method', 'CONNECT', ':protocol', 'websocket', ':path', '/', ':authority', 'a'],
  ];
  for (const [i, fields] of cases.entries()) request(peer, 1 + 2 * i, fields);
  conn.receive(peer.bytes(), 1);
  const rst = resets(conn);
  assert.deepEqual(
    [...rst.keys()],
    cases.map((_, i) => 1 + 2 * i),
  );
  for (const code of rst.values()) assert.equal(code, H2ErrorCode.PROTOCOL_ERROR);
  assert.equal(handler.headers.length, 0);
  assert.equal(handler.errors.length, 0);
});

test('plain CONNECT keeps RFC 9113 §8.5: :authority only, with or without the setting', () => {
  for (const enabled of [false, true]) {
    const { conn, handler } = server(enabled);
    const peer = new ScriptedPeer().preface();
    request(peer, 1, [':method', 'CONNECT', ':authority', 'example.com:443']);
    request(peer, 3, [':method', 'CONNECT', ':authority', 'example.com:443', ':path', '/']);
    conn.receive(peer.bytes(), 1);
    assert.deepEqual(
      handler.headers.map((h) => h.stream.id),
      [1],
    );
    assert.deepEqual([...resets(conn)], [[3, H2ErrorCode.PROTOCOL_ERROR]]);
  }
});

test('checkRequestFields reports :protocol facts and the rule broken', () => {
  const facts: H2FieldFacts = { contentLength: -1, priorityIndex: -1, method: '', status: 0 };
  assert.equal(checkRequestFields(WEBSOCKET, facts, true), undefined);
  assert.equal(facts.protocol, 'websocket');
  assert.equal(facts.method, 'CONNECT');
  assert.match(checkRequestFields(WEBSOCKET, facts) ?? '', /SETTINGS_ENABLE_CONNECT_PROTOCOL/);
  const get = [':method', 'GET', ':scheme', 'http', ':path', '/', ':protocol', 'websocket'];
  assert.match(checkRequestFields(get, facts, true) ?? '', /other than CONNECT/);
  assert.equal(
    checkRequestFields([':method', 'GET', ':scheme', 'http', ':path', '/'], facts, true),
    undefined,
  );
  assert.equal(facts.protocol, '');
});

function client() {
  const handler = new RecordingHandler();
  let settings = 0;
  const withSettings = Object.assign(handler, {
    onSettings() {
      settings++;
    },
  });
  const conn = new H2Connection('client', withSettings);
  conn.start(0);
  conn.takeOutgoing();
  return { conn, handler, settingsCount: () => settings };
}

function serverSettings(values: number[]): Buffer {
  const peer = new ScriptedPeer();
  peer.writer.settings(values);
  return peer.bytes();
}

test('a client learns SETTINGS_ENABLE_CONNECT_PROTOCOL from the server and hears onSettings (RFC 8441 §3)', () => {
  const { conn, settingsCount } = client();
  assert.equal(conn.peerSettingsReceived, false);
  conn.receive(serverSettings([H2Setting.MAX_CONCURRENT_STREAMS, 10]), 1);
  assert.equal(settingsCount(), 1);
  assert.equal(conn.peerSettingsReceived, true);
  assert.equal(conn.peerEnableConnectProtocol, false);
  conn.receive(serverSettings([H2Setting.ENABLE_CONNECT_PROTOCOL, 1]), 2);
  assert.equal(settingsCount(), 2);
  assert.equal(conn.peerEnableConnectProtocol, true);
  // Repeating 1 is fine.
  conn.receive(serverSettings([H2Setting.ENABLE_CONNECT_PROTOCOL, 1]), 3);
  assert.equal(conn.failed, false);
});

test('SETTINGS_ENABLE_CONNECT_PROTOCOL above 1, or withdrawn after 1, is a connection PROTOCOL_ERROR (RFC 8441 §3)', () => {
  const a = client();
  a.conn.receive(serverSettings([H2Setting.ENABLE_CONNECT_PROTOCOL, 2]), 1);
  assert.equal(a.handler.errors[0]?.errorCode, H2ErrorCode.PROTOCOL_ERROR);
  assert.equal(goawayCode(new FrameLog().feed(a.conn.takeOutgoing())), H2ErrorCode.PROTOCOL_ERROR);
  const b = client();
  b.conn.receive(serverSettings([H2Setting.ENABLE_CONNECT_PROTOCOL, 1]), 1);
  b.conn.receive(serverSettings([H2Setting.ENABLE_CONNECT_PROTOCOL, 0]), 2);
  assert.equal(b.handler.errors[0]?.errorCode, H2ErrorCode.PROTOCOL_ERROR);
  // 0 without a previous 1 is allowed.
  const c = client();
  c.conn.receive(serverSettings([H2Setting.ENABLE_CONNECT_PROTOCOL, 0]), 1);
  assert.equal(c.conn.failed, false);
});
