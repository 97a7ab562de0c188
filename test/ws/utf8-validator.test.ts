/** Utf8Validator: incremental validation agrees with Node's whole-buffer `isUtf8` under any split. */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { test } from 'node:test';
import { Utf8Validator } from '../../src/ws/utf8-validator.js';
import { seededRandom } from './ws-test-frames.js';

function validate(bytes: Buffer, cuts: number[]): boolean {
  const v = new Utf8Validator();
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (!v.update(bytes, at, cut)) return false;
    at = cut;
  }
  return v.complete;
}

const SAMPLES: [string, boolean][] = [
  ['', true],
  ['48656c6c6f', true],
  ['cebae1bdb9cf83cebcceb5', true], // κόσμε
  ['f0908080', true], // U+10000
  ['f48fbfbf', true], // U+10FFFF
  ['efbfbf', true], // U+FFFF
  ['edbfbf', false], // surrogate U+DFFF
  ['eda080', false], // surrogate U+D800
  ['f4908080', false], // above U+10FFFF
  ['c0af', false], // overlong '/'
  ['e080af', false], // overlong
  ['f08080af', false], // overlong
  ['80', false], // lone continuation
  ['c2', false], // truncated
  ['e282', false], // truncated
  ['f0908f', false], // truncated
  ['fe', false],
  ['ff', false],
  ['f8888080 80', false], // 5-byte form
  ['ce bae1bdb9cf83cebcceb5 eda080 656469746564', false],
];

test('known valid and invalid sequences, whole and split at every position', () => {
  for (const [h, valid] of SAMPLES) {
    const bytes = Buffer.from(h.replace(/\s+/g, ''), 'hex');
    assert.equal(validate(bytes, []), valid, `whole ${h}`);
    for (let i = 0; i <= bytes.length; i++) assert.equal(validate(bytes, [i]), valid, `${h} cut at ${i}`);
  }
});

test('random byte strings agree with isUtf8 under random splits (long pieces use the native path)', () => {
  const random = seededRandom(1234);
  const alphabet = [0x41, 0x7f, 0x80, 0xbf, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xa0, 0x90, 0x8f];
  let valid = 0;
  for (let round = 0; round < 3000; round++) {
    const length = Math.floor(random() * 200);
    const bytes = Buffer.alloc(length);
    // Mostly well-formed text with occasional damage.
    const text = Buffer.from(
      Array.from({ length }, () => String.fromCodePoint(Math.floor(random() ** 3 * 0x10ffff) % 0xd800)).join(
        '',
      ),
    ).subarray(0, length);
    text.copy(bytes);
    if (random() < 0.5)
      bytes[Math.floor(random() * length)] = alphabet[Math.floor(random() * alphabet.length)];
    const cuts: number[] = [];
    let at = 0;
    while (at < length) {
      at += 1 + Math.floor(random() * 90);
      if (at < length) cuts.push(at);
    }
    const expected = isUtf8(bytes);
    if (expected) valid++;
    assert.equal(validate(bytes, cuts), expected, `${bytes.toString('hex')} cuts ${cuts}`);
  }
  assert.ok(valid > 300 && valid < 2700, `a useful mix of valid and invalid inputs (${valid})`);
});
