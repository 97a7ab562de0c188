// Tests for CRC-32 (src/runtime/crc32.ts): the check value of the CRC catalogue, agreement with
// the trailer node:zlib writes, and the shift identity the gzip template writer relies on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  CRC32_START,
  crc32,
  crc32PositionTables,
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

test('position tables: a message that differs from a template at known positions has its register as the tables say', () => {
  const length = 300;
  const template = randomBytes(length);
  const positions = [0, 5, 6, 150, 298, 299, 17];
  const alphabet = [0x30, 0x39, 0x61, 0x66, 0x00, 0xff];
  const tables = crc32PositionTables(length, positions, alphabet);
  assert.equal(tables.length, positions.length * alphabet.length);
  // The fixed part: the template with the changing positions zeroed.
  const fixed = Buffer.from(template);
  for (const p of positions) fixed[p] = 0;
  const fixedPart = crc32Register(0, fixed, 0, length);
  const shift = crc32Shift(length);
  for (let trial = 0; trial < 50; trial++) {
    const message = Buffer.from(template);
    let expected = 0;
    for (let k = 0; k < positions.length; k++) {
      const a = (trial * 7 + k * 3) % alphabet.length;
      message[positions[k]!] = alphabet[a]!;
      expected ^= tables[k * alphabet.length + a]!;
    }
    const r = randomBytes(4).readInt32LE(0);
    assert.equal(
      shift.apply(r) ^ fixedPart ^ expected,
      crc32Register(r, message, 0, length),
      `trial ${trial}`,
    );
  }
  assert.throws(() => crc32PositionTables(10, [10], alphabet), RangeError);
  assert.throws(() => crc32PositionTables(10, [-1], alphabet), RangeError);
});
