/**
 * WsFrameParser, WsFrameWriter and masking against the examples of RFC 6455 §5.7, length
 * encodings at their boundaries (§5.2), random splits of the input, and a naive reference XOR.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WsProtocolError } from '../../src/ws/ws-errors.js';
import { WsFrameParser } from '../../src/ws/ws-frame-parser.js';
import { WsFrameWriter } from '../../src/ws/ws-frame-writer.js';
import { applyWsMask } from '../../src/ws/ws-mask.js';
import { frame, randomSplit, readFrames, seededRandom } from './ws-test-frames.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 6455 §5.7 examples.
const HELLO_UNMASKED = hex('81 05 48 65 6c 6c 6f');
const HELLO_MASKED = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
const HELLO_FRAGMENTED = hex('01 03 48 65 6c 80 02 6c 6f');
const PING_UNMASKED = hex('89 05 48 65 6c 6c 6f');
const PONG_MASKED = hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58');

test('RFC 6455 §5.7 examples parse, whole and split at every byte', () => {
  const cases: [Buffer, 'server' | 'client', string][] = [
    [HELLO_UNMASKED, 'server', '1:Hello'],
    [HELLO_MASKED, 'client', '1:Hello'],
    [HELLO_FRAGMENTED, 'server', '1:Hel|0:lo'],
    [PING_UNMASKED, 'server', '9:Hello'],
    [PONG_MASKED, 'client', '10:Hello'],
  ];
  for (const [bytes, from, expected] of cases) {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const frames: string[] = [];
      let parts: Buffer[] = [];
      const parser = new WsFrameParser(
        {
          onDataFrame() {
            parts = [];
          },
          onDataPayload(d) {
            parts.push(Buffer.from(d));
          },
          onDataFrameEnd() {
            frames.push(`${frames.length === 0 ? 1 : 0}:${Buffer.concat(parts)}`);
          },
          onControlFrame(op, p) {
            frames.push(`${op}:${p}`);
          },
        },
        { role: from === 'server' ? 'client' : 'server' },
      );
      const copy = Buffer.from(bytes);
      parser.receive(copy.subarray(0, cut));
      parser.receive(copy.subarray(cut));
      assert.equal(frames.join('|'), expected, `cut at ${cut}`);
    }
  }
});

test('the writer produces the RFC 6455 §5.7 unmasked examples exactly', () => {
  const w = new WsFrameWriter(false);
  const hello = w.encode(0x1, true, false, 'Hello');
  assert.deepEqual(hello.header, HELLO_UNMASKED);
  assert.equal(hello.payload, null);
  assert.deepEqual(w.encode(0x9, true, false, Buffer.from('Hello')).header, PING_UNMASKED);
  const first = w.encode(0x1, false, false, 'Hel').header;
  const second = w.encode(0x0, true, false, 'lo').header;
  assert.deepEqual(Buffer.concat([first, second]), HELLO_FRAGMENTED);
  // 256 bytes: 16-bit length (§5.7 "256 bytes binary message in a single unmasked frame").
  const b256 = w.encode(0x2, true, false, Buffer.alloc(256, 1));
  assert.deepEqual(b256.header.subarray(0, 4), hex('82 7e 01 00'));
  // 64 KiB: 64-bit length; a large payload is not copied.
  const big = Buffer.alloc(65536, 2);
  const b64k = w.encode(0x2, true, false, big);
  assert.deepEqual(b64k.header, hex('82 7f 00 00 00 00 00 01 00 00'));
  assert.equal(b64k.payload, big);
});

test('length encodings at their boundaries round-trip, masked and unmasked', () => {
  for (const mask of [false, true]) {
    const w = new WsFrameWriter(mask);
    for (const n of [0, 1, 125, 126, 127, 65535, 65536, 70000]) {
      const payload = Buffer.alloc(n);
      for (let i = 0; i < n; i++) payload[i] = (i * 31) & 0xff;
      const f = w.encode(0x2, true, false, payload);
      const bytes = f.payload === null ? f.header : Buffer.concat([f.header, f.payload]);
      const expectedHeader = (n < 126 ? 2 : n < 65536 ? 4 : 10) + (mask ? 4 : 0);
      assert.equal(bytes.length, expectedHeader + n, `length ${n}`);
      assert.equal((bytes[1] & 0x80) !== 0, mask);
      const frames = readFrames(bytes, mask ? 'client' : 'server');
      assert.equal(frames.length, 1);
      assert.deepEqual(frames[0].payload, payload, `payload ${n}`);
    }
  }
});

test("the writer never modifies the caller's buffer when masking, and keys differ between frames", () => {
  const w = new WsFrameWriter(true);
  const data = Buffer.from('the same payload, twice over');
  const copy = Buffer.from(data);
  const a = w.encode(0x2, true, false, data).header;
  const b = w.encode(0x2, true, false, data).header;
  assert.deepEqual(data, copy);
  assert.notDeepEqual(a.subarray(2, 6), b.subarray(2, 6));
  assert.deepEqual(readFrames(a, 'client')[0].payload, data);
});

test('applyWsMask matches a byte-by-byte XOR for any length, alignment and phase', () => {
  const random = seededRandom(7);
  const backing = Buffer.alloc(600);
  for (let round = 0; round < 400; round++) {
    const offset = Math.floor(random() * 8);
    const length = Math.floor(random() * 300);
    const phase = Math.floor(random() * 4);
    const mask = Buffer.from([random() * 256, random() * 256, random() * 256, random() * 256]);
    const data = backing.subarray(offset, offset + length);
    for (let i = 0; i < length; i++) data[i] = (random() * 256) | 0;
    const expected = Buffer.from(data);
    for (let i = 0; i < length; i++) expected[i] ^= mask[(i + phase) & 3];
    applyWsMask(data, 0, length, mask, 0, phase);
    assert.deepEqual(data, expected, `offset ${offset} length ${length} phase ${phase}`);
  }
});

test('random splits of a stream of mixed frames give the same frames', () => {
  const random = seededRandom(42);
  const specs = [
    frame({ opcode: 0x1, payload: 'first' }),
    frame({ opcode: 0x2, payload: Buffer.alloc(300, 9), fin: false }),
    frame({ opcode: 0x9, payload: 'ping in between' }),
    frame({ opcode: 0x0, payload: Buffer.alloc(70000, 3) }),
    frame({ opcode: 0xa, payload: '' }),
    frame({ opcode: 0x1, payload: '' }),
    frame({ opcode: 0x1, payload: 'sixteen', lengthBits: 16 }),
    frame({ opcode: 0x2, payload: 'sixty-four', lengthBits: 64 }),
  ];
  const stream = Buffer.concat(specs);
  const expected = readFrames(stream, 'client');
  assert.equal(expected.length, 8);
  for (let round = 0; round < 30; round++) {
    const seen: string[] = [];
    let total = 0;
    const parser = new WsFrameParser(
      {
        onDataFrame(op, fin, _r, n) {
          seen.push(`data ${op} ${fin} ${n}`);
          total = 0;
        },
        onDataPayload(d) {
          total += d.length;
        },
        onDataFrameEnd() {
          seen.push(`end ${total}`);
        },
        onControlFrame(op, p) {
          seen.push(`control ${op} ${p.toString()}`);
        },
      },
      { role: 'server' },
    );
    for (const piece of randomSplit(stream, random, round < 15 ? 5 : 5000)) parser.receive(piece);
    assert.deepEqual(seen, [
      'data 1 true 5',
      'end 5',
      'data 2 false 300',
      'end 300',
      'control 9 ping in between',
      'data 0 true 70000',
      'end 70000',
      'control 10 ',
      'data 1 true 0',
      'end 0',
      'data 1 true 7',
      'end 7',
      'data 2 true 10',
      'end 10',
    ]);
  }
});

test('limits are checked at the header, before any payload arrives', () => {
  const events: string[] = [];
  const parser = new WsFrameParser(
    {
      onDataFrame: () => events.push('frame'),
      onDataPayload: () => events.push('payload'),
      onDataFrameEnd: () => events.push('end'),
      onControlFrame: () => events.push('control'),
    },
    { role: 'server', maxFramePayload: 1000 },
  );
  // At the limit: fine.
  parser.receive(frame({ opcode: 0x2, payload: Buffer.alloc(1000) }));
  assert.deepEqual(events, ['frame', 'payload', 'end']);
  // One over: fails on the 4 header bytes alone.
  const over = frame({ opcode: 0x2, payload: Buffer.alloc(1001) });
  assert.throws(
    () => parser.receive(over.subarray(0, 4)),
    (e) => e instanceof WsProtocolError && e.closeCode === 1009 && e.code === 'AVX_WS_FRAME_TOO_LARGE',
  );
  assert.equal(parser.failed, true);
  parser.receive(frame({ opcode: 0x1, payload: 'ignored now' }));
  assert.deepEqual(events, ['frame', 'payload', 'end']);
});

test('pause holds input and resume delivers it in order', () => {
  const seen: string[] = [];
  let parser!: WsFrameParser;
  parser = new WsFrameParser(
    {
      onDataFrame() {},
      onDataPayload(d) {
        seen.push(d.toString());
      },
      onDataFrameEnd() {
        parser.pause();
      },
      onControlFrame() {},
    },
    { role: 'server' },
  );
  parser.receive(Buffer.concat([frame({ opcode: 1, payload: 'a' }), frame({ opcode: 1, payload: 'b' })]));
  assert.deepEqual(seen, ['a']);
  parser.receive(frame({ opcode: 1, payload: 'c' }));
  assert.equal(parser.heldBytes > 0, true);
  parser.resume();
  assert.deepEqual(seen, ['a', 'b']);
  parser.resume();
  assert.deepEqual(seen, ['a', 'b', 'c']);
});
