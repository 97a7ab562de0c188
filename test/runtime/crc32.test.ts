// Tests for CRC-32 (src/runtime/crc32.ts): the check value of the CRC catalogue, agreement with
// the trailer node:zlib writes, and the shift identity the gzip template writer relies on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  CRC32_START,
  crc32,
  crc32Register,
  crc32Shift,
  crc32Value,
  crc32Word,
} from '../../src/runtime/crc32.js';

test('CRC-32 of "123456789" is the catalogue check value 0xcbf43926', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
});

test('CRC-32 agrees with the trailer node:zlib writes (RFC 1952 §2.3.1), also fed in pieces', () => {
  for (const size of [1, 7, 780, 65536 + 3]) {
    const data = randomBytes(size);
    const gz = gzipSync(data);
    const expected = gz.readUInt32LE(gz.length - 8);
    assert.equal(crc32(data), expected, `size ${size}`);
    let r = CRC32_START;
    for (let at = 0; at < size; at += 333) r = crc32Register(r, data, at, Math.min(size, at + 333));
    assert.equal(crc32Value(r), expected);
  }
});

test('the register after a segment is the shifted register XOR the segment run from zero', () => {
  for (const length of [0, 1, 3, 12, 255, 780, 4096]) {
    const segment = randomBytes(length);
    const shift = crc32Shift(length);
    assert.equal(shift.length, length);
    for (let k = 0; k < 20; k++) {
      const r = randomBytes(4).readInt32LE(0);
      const direct = crc32Register(r, segment, 0, length);
      assert.equal(shift.apply(r) ^ crc32Register(0, segment, 0, length), direct, `length ${length}`);
    }
  }
  // Made once per length.
  assert.equal(crc32Shift(780), crc32Shift(780));
});

test('four bytes at a time (slicing-by-4) move the register as four single steps do', () => {
  const data = randomBytes(4000);
  let r = CRC32_START;
  for (let at = 0; at < data.length; at += 4) r = crc32Word(r, data.readInt32LE(at));
  assert.equal(crc32Value(r), crc32(data));
});
