/**
 * WsConnection (the sans-I/O core): reassembly, control frames between fragments, the close
 * handshake both ways, limits at and over the limit, permessage-deflate between two cores,
 * and identical results under random splits of the input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PerMessageDeflate, type PerMessageDeflateParams } from '../../src/ws/per-message-deflate.js';
import { WsConnection } from '../../src/ws/ws-connection.js';
import { WsClosedError, WsUsageError } from '../../src/ws/ws-errors.js';
import { CoreRecorder, closePayload, frame, makeCore, randomSplit, seededRandom } from './ws-test-frames.js';

test('a fragmented message with pings between its fragments is reassembled; pings are answered', () => {
  const { core, rec } = makeCore();
  core.receive(frame({ opcode: 0x1, payload: 'Hel', fin: false }));
  core.receive(frame({ opcode: 0x9, payload: 'p1' }));
  core.receive(frame({ opcode: 0x0, payload: 'lo, ', fin: false }));
  core.receive(frame({ opcode: 0xa, payload: 'unsolicited' }));
  core.receive(frame({ opcode: 0x0, payload: 'world' }));
  assert.deepEqual(rec.events, ['ping 2', 'pong 11', 'message text 12']);
  assert.equal(rec.messages[0].data.toString(), 'Hello, world');
  const sent = rec.sent();
  assert.deepEqual(
    sent.map((f) => [f.opcode, f.payload.toString()]),
    [[0xa, 'p1']],
  );
});

test('the peer starts the close handshake: we echo its code, then read nothing more', () => {
  const { core, rec } = makeCore();
  core.receive(
    Buffer.concat([
      frame({ opcode: 0x8, payload: closePayload(4000, 'bye') }),
      frame({ opcode: 0x1, payload: 'after close' }),
      frame({ opcode: 0x9, payload: 'after close' }),
    ]),
  );
  assert.deepEqual(rec.closeFrame, { code: 4000, reason: 'bye' });
  assert.deepEqual(rec.events, ['close 4000']);
  assert.equal(rec.sentCloseCode(), 4000);
  assert.equal(rec.sent().length, 1, 'no pong for the ping after the Close');
  assert.throws(() => core.send('late', false, false), WsClosedError);
});

test('an empty Close is answered with an empty Close and reported as 1005', () => {
  const { core, rec } = makeCore();
  core.receive(frame({ opcode: 0x8 }));
  assert.deepEqual(rec.closeFrame, { code: 1005, reason: '' });
  const close = rec.sent()[0];
  assert.equal(close.opcode, 0x8);
  assert.equal(close.payload.length, 0);
});

test('we start the close handshake: no data after our Close, the reply is not answered again', () => {
  const { core, rec } = makeCore();
  core.close(1000, 'done');
  assert.throws(() => core.send('x', false, false), WsClosedError);
  assert.throws(() => core.ping(), WsClosedError);
  core.receive(frame({ opcode: 0x1, payload: 'still delivered' }));
  core.receive(frame({ opcode: 0x9, payload: 'no pong after our close' }));
  core.receive(frame({ opcode: 0x8, payload: closePayload(1000) }));
  assert.deepEqual(rec.events, ['message text 15', 'ping 23', 'close 1000']);
  const sent = rec.sent();
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0].payload, closePayload(1000, 'done'));
});

test('close codes and reasons we may not send are refused before anything is sent', () => {
  const { core, rec } = makeCore();
  for (const code of [999, 1004, 1005, 1006, 1015, 2000, 5000]) {
    assert.throws(
      () => core.close(code),
      (e) => e instanceof WsUsageError && e.code === 'AVX_WS_INVALID_CLOSE_CODE',
    );
  }
  assert.throws(
    () => core.close(1000, 'x'.repeat(124)),
    (e) => e instanceof WsUsageError && e.code === 'AVX_WS_CLOSE_REASON_TOO_LONG',
  );
  assert.equal(rec.written.length, 0);
  core.close(1000, 'é'.repeat(61)); // 122 bytes
  assert.equal(rec.sentCloseCode(), 1000);
});

test('maxMessageSize: a message at the limit passes, one byte over fails with 1009 at the frame header', () => {
  const { core, rec } = makeCore({ maxMessageSize: 100 });
  core.receive(frame({ opcode: 0x2, payload: Buffer.alloc(60), fin: false }));
  core.receive(frame({ opcode: 0x0, payload: Buffer.alloc(40) }));
  assert.equal(rec.messages[0].data.length, 100);
  core.receive(frame({ opcode: 0x2, payload: Buffer.alloc(60), fin: false }));
  const over = frame({ opcode: 0x0, payload: Buffer.alloc(41) });
  core.receive(over.subarray(0, 2)); // just the header bytes
  assert.equal(rec.errors[0]?.closeCode, 1009);
  assert.equal(rec.sentCloseCode(), 1009);
});

test('a client core masks what it sends and rejects masked frames', () => {
  const { core, rec } = makeCore({ role: 'client' });
  core.send('hi', false, false);
  const sent = rec.sent('client');
  assert.equal(sent[0].payload.toString(), 'hi');
  assert.equal((Buffer.concat(rec.written)[1] & 0x80) !== 0, true);
  core.receive(frame({ opcode: 0x1, payload: 'masked', mask: true }));
  assert.equal(rec.errors[0]?.closeCode, 1002);
});

test('random splits through the core give the same events', () => {
  const stream = Buffer.concat([
    frame({ opcode: 0x1, payload: 'κόσμε '.repeat(40), fin: false }),
    frame({ opcode: 0x9, payload: 'ping' }),
    frame({ opcode: 0x0, payload: '€𝄞'.repeat(50) }),
    frame({ opcode: 0x2, payload: Buffer.alloc(1000, 7) }),
    frame({ opcode: 0x8, payload: closePayload(1001, 'going') }),
  ]);
  const random = seededRandom(99);
  let expected: string[] | undefined;
  for (let round = 0; round < 40; round++) {
    const { core, rec } = makeCore();
    for (const piece of randomSplit(stream, random, round % 2 === 0 ? 3 : 400)) core.receive(piece);
    if (expected === undefined) expected = rec.events;
    assert.deepEqual(rec.events, expected);
    assert.equal(rec.messages[0].data.toString(), `${'κόσμε '.repeat(40)}${'€𝄞'.repeat(50)}`);
  }
  assert.deepEqual(expected, [
    'ping 4',
    `message text ${Buffer.byteLength('κόσμε '.repeat(40)) + 350}`,
    'message binary 1000',
    'close 1001',
  ]);
});

/** Two cores wired to each other, with permessage-deflate. */
function deflatePair(params: PerMessageDeflateParams, maxMessageSize = 1 << 20) {
  const serverRec = new CoreRecorder();
  const clientRec = new CoreRecorder();
  const server = new WsConnection(serverRec, {
    role: 'server',
    maxMessageSize,
    deflate: new PerMessageDeflate(true, params, { threshold: 0 }, maxMessageSize),
  });
  const client = new WsConnection(clientRec, {
    role: 'client',
    maxMessageSize,
    deflate: new PerMessageDeflate(false, params, { threshold: 0 }, maxMessageSize),
  });
  return { server, client, serverRec, clientRec };
}

async function settle(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(check(), 'the condition was reached');
}

test('permessage-deflate between two cores, with and without context takeover', async () => {
  for (const noContext of [false, true]) {
    const params = {
      serverNoContextTakeover: noContext,
      clientNoContextTakeover: noContext,
      serverMaxWindowBits: noContext ? 10 : 15,
      clientMaxWindowBits: noContext ? 9 : 15,
    };
    const { server, client, serverRec, clientRec } = deflatePair(params);
    const texts = ['{"hello":"world"}'.repeat(50), '', 'κόσμε'.repeat(300), '{"hello":"world"}'.repeat(50)];
    for (const t of texts) client.send(t, false, true);
    client.send(Buffer.alloc(20000, 5), true, true);
    await settle(() => clientRec.written.length >= 5);
    const frames = clientRec.sent('client');
    assert.ok(
      frames.every((f) => f.rsv1),
      'every message was compressed',
    );
    assert.ok(frames[0].payload.length < 100, 'repetitive text compresses');
    if (!noContext)
      assert.ok(frames[3].payload.length < frames[0].payload.length, 'context takeover helps the repeat');
    else assert.equal(frames[3].payload.length, frames[0].payload.length, 'no context: same output again');
    for (const piece of randomSplit(Buffer.concat(clientRec.written), seededRandom(5), 50))
      server.receive(piece);
    await settle(() => serverRec.messages.length === 5);
    assert.deepEqual(
      serverRec.messages.map((m) => (m.isBinary ? m.data.length : m.data.toString())),
      [...texts, 20000],
    );
    server.destroy();
    client.destroy();
  }
});

test('a compressed message that inflates beyond maxMessageSize fails with 1009', async () => {
  const params = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  };
  const big = deflatePair(params, 1 << 22);
  big.client.send(Buffer.alloc(1 << 21), true, true); // 2 MiB of zeros: a few KiB compressed
  await settle(() => big.clientRec.written.length > 0);
  const small = deflatePair(params, 1 << 20);
  small.server.receive(Buffer.concat(big.clientRec.written));
  await settle(() => small.serverRec.errors.length > 0);
  assert.equal(small.serverRec.errors[0].closeCode, 1009);
  assert.equal(small.serverRec.sentCloseCode(), 1009);
  big.client.destroy();
  small.server.destroy();
});
