import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeVarint,
  readVarint,
  readVarintBig,
  VARINT_MAX,
  varintLength,
  varintLengthBig,
  writeVarint,
  writeVarintBig,
  writeVarintOfLength,
} from '../../src/quic/quic-varint.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

test('RFC 9000 Appendix A.1 examples decode to their values', () => {
  assert.equal(readVarintBig(hex('c2197c5eff14e88c'), 0), 151288809941952652n);
  assert.throws(() => readVarint(hex('c2197c5eff14e88c'), 0), RangeError, 'above 2^53 - 1 as a number');
  assert.equal(readVarint(hex('9d7f3e7d'), 0), 494878333);
  assert.equal(readVarint(hex('7bbd'), 0), 15293);
  assert.equal(readVarint(hex('25'), 0), 37);
  assert.equal(readVarint(hex('4025'), 0), 37, 'a longer form than needed is still valid');
});

test('varints encode in their shortest form at each length boundary and read back', () => {
  const cases: [number, number][] = [
    [0, 1],
    [63, 1],
    [64, 2],
    [16383, 2],
    [16384, 4],
    [1073741823, 4],
    [1073741824, 8],
    [Number.MAX_SAFE_INTEGER, 8],
  ];
  for (const [value, length] of cases) {
    assert.equal(varintLength(value), length, `length of ${value}`);
    const bytes = encodeVarint(value);
    assert.equal(bytes.length, length);
    assert.equal(readVarint(bytes, 0), value);
    assert.equal(readVarintBig(bytes, 0), BigInt(value));
  }
  assert.equal(readVarintBig(hex('ffffffffffffffff'), 0), VARINT_MAX);
});

test('a varint cut short reads as -1 (wait for more); bad values and short buffers are RangeErrors', () => {
  assert.equal(readVarint(hex('9d7f3e'), 0), -1);
  assert.equal(readVarint(hex(''), 0), -1);
  assert.equal(readVarintBig(hex('c2197c'), 0), -1n);
  assert.equal(readVarint(hex('0025'), 1), 37, 'at an offset');
  for (const bad of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1]) {
    assert.throws(() => encodeVarint(bad), RangeError);
  }
  assert.throws(() => writeVarint(new Uint8Array(1), 0, 64), RangeError);
});

test('writeVarintOfLength writes a longer form than needed; writeVarintBig writes up to 2^62 - 1', () => {
  const four = new Uint8Array(4);
  writeVarintOfLength(four, 0, 37, 4);
  assert.deepEqual([...four], [0x80, 0, 0, 37]);
  assert.equal(readVarint(four, 0), 37);
  assert.throws(() => writeVarintOfLength(new Uint8Array(2), 0, 16384, 2), RangeError);
  const big = new Uint8Array(8);
  writeVarintBig(big, 0, 151288809941952652n);
  assert.deepEqual(Buffer.from(big).toString('hex'), 'c2197c5eff14e88c');
  assert.equal(varintLengthBig(VARINT_MAX), 8);
  assert.throws(() => varintLengthBig(VARINT_MAX + 1n), RangeError);
  assert.throws(() => varintLengthBig(-1n), RangeError);
});
