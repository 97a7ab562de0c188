import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ClosedStreamEnd, ClosedStreamLog } from '../../src/h2/closed-stream-log.js';
import { H2FrameWriter } from '../../src/h2/h2-frame-writer.js';
import { HpackDecoder } from '../../src/h2/hpack-decoder.js';
import { HpackEncoder } from '../../src/h2/hpack-encoder.js';
import { App } from '../../src/server/app.js';

test('the closed-stream log grows as streams close and keeps the newest, oldest forgotten, across its growth', () => {
  const log = new ClosedStreamLog(20);
  for (let id = 1; id <= 49; id += 2)
    log.add(id, id % 4 === 1 ? ClosedStreamEnd.ResetByUs : ClosedStreamEnd.EndedByPeer);
  // 25 closed, 20 remembered: 11..49; 1..9 forgotten.
  for (let id = 1; id <= 9; id += 2) assert.equal(log.get(id), ClosedStreamEnd.Unknown, `stream ${id}`);
  for (let id = 11; id <= 49; id += 2) {
    assert.equal(
      log.get(id),
      id % 4 === 1 ? ClosedStreamEnd.ResetByUs : ClosedStreamEnd.EndedByPeer,
      `stream ${id}`,
    );
  }
  assert.equal(log.forgottenUpTo, 9);
  assert.equal(log.get(2), ClosedStreamEnd.Unknown);
  // A capacity below the first ring's size, and a log that never filled.
  const small = new ClosedStreamLog(3);
  for (const id of [1, 3, 5, 7]) small.add(id, ClosedStreamEnd.EndedByPeer);
  assert.deepEqual(
    [1, 3, 5, 7].map((id) => small.get(id)),
    [0, 2, 2, 2],
  );
  assert.equal(small.forgottenUpTo, 1);
  const few = new ClosedStreamLog(100);
  few.add(1, ClosedStreamEnd.ResetByUs);
  assert.equal(few.get(1), ClosedStreamEnd.ResetByUs);
  assert.equal(few.forgottenUpTo, 0);
});

test('a frame writer let go of its scratch buffer writes on into a new one; what it handed out stays intact', () => {
  const w = new H2FrameWriter();
  w.ping(Buffer.from('12345678'), false);
  const first = Buffer.concat(w.take());
  const firstCopy = Buffer.from(first);
  w.release();
  assert.equal(w.size, 0);
  w.ping(Buffer.from('abcdefgh'), true);
  w.windowUpdate(0, 1000);
  const second = Buffer.concat(w.take());
  assert.deepEqual(first, firstCopy, 'bytes handed out before the release are not written over');
  // PING: length 8, type 6, ACK flag, stream 0, then the payload; WINDOW_UPDATE: 4, type 8.
  assert.equal(second.subarray(0, 9).toString('hex'), '000008060100000000');
  assert.equal(second.subarray(9, 17).toString(), 'abcdefgh');
  assert.equal(second.subarray(17, 26).toString('hex'), '000004080000000000');
  assert.equal(second.readUInt32BE(26), 1000);
  // Not while something written is still to be taken.
  w.rstStream(1, 8);
  w.release();
  assert.equal(Buffer.concat(w.take()).length, 13);
});

test('header blocks of several encoders, each read before the next is encoded, decode right (one shared buffer)', () => {
  const a = new HpackEncoder();
  const b = new HpackEncoder({ huffman: false });
  const da = new HpackDecoder();
  const db = new HpackDecoder();
  for (let i = 0; i < 3; i++) {
    const fieldsA = [':status', '200', 'content-type', 'text/plain', 'x-n', String(i)];
    const fieldsB = [':status', '404', 'x-long', 'v'.repeat(3000 + i)];
    assert.deepEqual(da.decode(a.encode(fieldsA)), fieldsA);
    assert.deepEqual(db.decode(b.encode(fieldsB)), fieldsB);
  }
});

test('an idle HTTP/2 connection holds no scratch buffers of its own (array buffers per connection)', async () => {
  // Regression: each idle connection kept its frame writer's scratch buffer, its HPACK encoder's
  // block buffer, its Huffman decoder's buffer and its encoder's cached literals (pool slices
  // pinning 8 KiB slabs), and a 100-slot closed-stream ring (800 bytes): 3.2 KiB of array
  // buffers per connection. Now about a dozen bytes.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const app = new App();
  app.get('/', () => 'hello world');
  const server = await app.listen({ port: 0, host: '127.0.0.1', keepAliveTimeout: 120_000 });
  const sessions: ReturnType<typeof connect>[] = [];
  const open = async (count: number) => {
    for (let i = 0; i < count; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const session = connect(`http://127.0.0.1:${server.port}`);
          await new Promise<void>((resolve, reject) => {
            const req = session.request({ ':path': '/', 'user-agent': 'idle-test' });
            req.resume();
            req.on('end', () => resolve());
            req.on('error', reject);
          });
          return session;
        }),
      );
      sessions.push(...batch);
    }
  };
  const settle = async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    gc();
    gc();
    return process.memoryUsage().arrayBuffers;
  };
  try {
    await open(50); // warm-up: pools, tables
    const before = await settle();
    const N = 300;
    await open(N);
    const after = await settle();
    const perConnection = (after - before) / N;
    assert.ok(perConnection < 512, `${perConnection.toFixed(0)} bytes of array buffers per idle connection`);
  } finally {
    for (const s of sessions) s.destroy();
    await server.close();
  }
});
