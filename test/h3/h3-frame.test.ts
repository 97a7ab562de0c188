/**
 * HTTP/3 frame codec tests (RFC 9114 §7): byte vectors of every frame type, incremental
 * reading across every split, unknown and greasing types skipped (§7.2.8, §9), limits, and
 * H3_FRAME_ERROR for payloads that do not hold exactly their fields (§7.1).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3Error, H3ErrorCode } from '../../src/h3/h3-error.js';
import { H3FrameReader, type H3FrameReaderLimits } from '../../src/h3/h3-frame-reader.js';
import { isGreaseValue, isReservedH2FrameType } from '../../src/h3/h3-frame-types.js';
import {
  decodeIdFrame,
  decodePushPromiseFrame,
  encodeCancelPushFrame,
  encodeDataFrame,
  encodeDataFrameHeader,
  encodeFrame,
  encodeGoawayFrame,
  encodeHeadersFrame,
  encodeMaxPushIdFrame,
  encodePushPromiseFrame,
} from '../../src/h3/h3-frame-writer.js';
import { encodeSettingsFrame } from '../../src/h3/h3-settings.js';
import { seededRandom } from '../seeded-random.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const LIMITS: H3FrameReaderLimits = { maxFieldSectionFrameSize: 1024, maxControlFrameSize: 64 };

test('frame vectors (RFC 9114 §7.2)', () => {
  assert.deepEqual(encodeDataFrame(Buffer.from('abc')), hex('00 03 616263'));
  assert.deepEqual(encodeDataFrameHeader(300), hex('00 412c'));
  assert.deepEqual(encodeHeadersFrame(hex('0000d1')), hex('01 03 0000d1'));
  assert.deepEqual(encodeCancelPushFrame(5), hex('03 01 05'));
  assert.deepEqual(
    encodeSettingsFrame({ qpackMaxTableCapacity: 4096, maxFieldSectionSize: 65536, qpackBlockedStreams: 16 }),
    hex('04 0a 01 5000 06 80010000 07 10'),
  );
  assert.deepEqual(encodeSettingsFrame({}), hex('04 00'));
  assert.deepEqual(encodePushPromiseFrame(2, hex('0000d1')), hex('05 04 02 0000d1'));
  assert.deepEqual(encodeGoawayFrame(8), hex('07 01 08'));
  assert.deepEqual(encodeGoawayFrame(16384), hex('07 04 80004000'));
  assert.deepEqual(encodeMaxPushIdFrame(300), hex('0d 02 412c'));
  // A frame type needing a two-octet varint (a greasing type, 0x1f * 3 + 0x21 = 0x7e).
  assert.deepEqual(encodeFrame(0x7e, hex('ff')), hex('407e 01 ff'));
});

test('reserved and greasing types (RFC 9114 §7.2.8)', () => {
  for (const t of [2, 6, 8, 9]) assert.equal(isReservedH2FrameType(t), true);
  for (const t of [0, 1, 3, 4, 5, 7, 0xd]) assert.equal(isReservedH2FrameType(t), false);
  assert.equal(isGreaseValue(0x21), true);
  assert.equal(isGreaseValue(0x40), true);
  assert.equal(isGreaseValue(0x22), false);
  assert.equal(isGreaseValue(0x20), false);
});

/** Reads `bytes` in the given pieces and records what the sink sees. */
function readAll(pieces: Buffer[], limits = LIMITS): string[] {
  const seen: string[] = [];
  let data = '';
  const reader = new H3FrameReader(
    {
      onFrameStart: (type, length) => seen.push(`start ${type} ${length}`),
      onFrame: (type, payload) => seen.push(`frame ${type} ${payload.toString('hex')}`),
      onData: (chunk, end) => {
        data += chunk.toString('hex');
        if (end) {
          seen.push(`data ${data}`);
          data = '';
        }
      },
    },
    limits,
  );
  for (const p of pieces) assert.equal(reader.push(p), p.length);
  seen.push(`boundary ${reader.atFrameBoundary}`);
  return seen;
}

const STREAM = Buffer.concat([
  encodeSettingsFrame({ qpackMaxTableCapacity: 4096 }),
  encodeFrame(0x21, hex('0102')), // greasing frame: skipped
  encodeHeadersFrame(hex('0000d1')),
  encodeDataFrame(Buffer.alloc(0)),
  encodeDataFrame(Buffer.from('hello world')),
  encodeFrame(0x3fff, Buffer.alloc(40)), // unknown type, larger than the control limit: skipped
  encodeGoawayFrame(16384),
  encodeHeadersFrame(Buffer.alloc(0)),
]);

test('reader: frames, DATA streamed, unknown types skipped, across every split (RFC 9114 §7.1, §9)', () => {
  const whole = readAll([STREAM]);
  assert.deepEqual(whole, [
    'start 4 3',
    'frame 4 015000',
    'start 33 2',
    'start 1 3',
    'frame 1 0000d1',
    'start 0 0',
    'data ',
    'start 0 11',
    `data ${Buffer.from('hello world').toString('hex')}`,
    'start 16383 40',
    'start 7 4',
    'frame 7 80004000',
    'start 1 0',
    'frame 1 ',
    'boundary true',
  ]);
  // Every two-piece split, then byte by byte, then random splits.
  for (let i = 0; i <= STREAM.length; i++) {
    assert.deepEqual(readAll([STREAM.subarray(0, i), STREAM.subarray(i)]), whole, `split at ${i}`);
  }
  assert.deepEqual(readAll([...STREAM].map((b) => Buffer.from([b]))), whole);
  const random = seededRandom(7);
  for (let round = 0; round < 50; round++) {
    const pieces: Buffer[] = [];
    for (let i = 0; i < STREAM.length; ) {
      const n = Math.floor(random() * 6);
      pieces.push(STREAM.subarray(i, i + n));
      i += n;
    }
    assert.deepEqual(readAll(pieces), whole);
  }
});

test('reader: not at a frame boundary inside a frame header or payload (RFC 9114 §7.1)', () => {
  assert.deepEqual(readAll([hex('01')]).at(-1), 'boundary false');
  assert.deepEqual(readAll([hex('01 03 00')]).at(-1), 'boundary false');
  assert.deepEqual(readAll([hex('40')]).at(-1), 'boundary false');
  assert.deepEqual(readAll([hex('00 05 6162')]).at(-1), 'boundary false');
});

test('reader: limits give H3_EXCESSIVE_LOAD before the payload is read (RFC 9114 §10.5)', () => {
  const check = (bytes: Buffer) =>
    assert.throws(
      () => readAll([bytes]),
      (err: unknown) => err instanceof H3Error && err.errorCode === H3ErrorCode.H3_EXCESSIVE_LOAD,
    );
  check(hex('01 4401')); // HEADERS of 1025 octets
  check(hex('04 4041')); // SETTINGS of 65 octets
  check(hex('07 4041')); // GOAWAY of 65 octets
  // At the limits: fine.
  assert.equal(readAll([encodeHeadersFrame(Buffer.alloc(1024))]).length, 3);
  assert.equal(readAll([encodeFrame(4, Buffer.alloc(64))]).length, 3);
  // DATA is streamed: no limit.
  assert.equal(readAll([encodeDataFrame(Buffer.alloc(5000))]).length, 3);
});

test('reader: pause stops after the frame, resume reads the rest', () => {
  const frames: number[] = [];
  const reader = new H3FrameReader(
    {
      onFrameStart: () => {},
      onFrame: (type) => {
        frames.push(type);
        if (type === 1) reader.pause();
      },
      onData: () => frames.push(0),
    },
    LIMITS,
  );
  const bytes = Buffer.concat([encodeHeadersFrame(hex('0000')), encodeDataFrame(hex('ab'))]);
  const used = reader.push(bytes);
  assert.equal(used, 4);
  assert.deepEqual(frames, [1]);
  reader.resume();
  assert.equal(reader.push(bytes.subarray(used)), bytes.length - used);
  assert.deepEqual(frames, [1, 0]);
});

test('id frames hold exactly one varint, else H3_FRAME_ERROR (RFC 9114 §7.1)', () => {
  assert.equal(decodeIdFrame(hex('412c'), 'GOAWAY'), 300);
  assert.equal(decodeIdFrame(hex('c000000000000004'), 'GOAWAY'), 4);
  // 2^62 - 4 (the largest client bidirectional stream id) keeps its residue modulo 4.
  assert.equal(decodeIdFrame(hex('fffffffffffffffc'), 'GOAWAY') % 4, 0);
  for (const bad of ['', '410000', '0800', '80']) {
    assert.throws(
      () => decodeIdFrame(hex(bad), 'GOAWAY'),
      (err: unknown) => err instanceof H3Error && err.errorCode === H3ErrorCode.H3_FRAME_ERROR,
      bad,
    );
  }
  const promise = decodePushPromiseFrame(hex('4002 0000d1'));
  assert.equal(promise.pushId, 2);
  assert.deepEqual(promise.fieldSection, hex('0000d1'));
  assert.throws(() => decodePushPromiseFrame(hex('40')), H3Error);
});
