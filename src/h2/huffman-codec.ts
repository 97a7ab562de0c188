/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B): encoder, decoder and encoded length.
 *
 * The code of Appendix B is canonical (codes of equal length are consecutive, in symbol
 * order), so the table is transcribed as code lengths only and the codes are rebuilt from
 * them; the tests check the result against codes printed in the RFC. Decoding walks a flat
 * state table one nibble at a time (16 transitions per state), with no allocation per string.
 */
import { Buffer } from 'node:buffer';
import { HpackError } from './h2-error.js';

/** RFC 7541 Appendix B: code length in bits of symbols 0..255 and EOS (256). */
const CODE_LENGTHS: readonly number[] = [
  // 0..31
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28,
  28, 28, 28, 28, 28,
  // 32..63: ' ' ! " # $ % & ' ( ) * + , - . / 0-9 : ; < = > ?
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  // 64..95: @ A-Z [ \ ] ^ _
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  // 96..127: ` a-z { | } ~ DEL
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  // 128..159
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22,
  23, 22, 23, 23, 24,
  // 160..191
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22,
  22, 23, 22, 22, 23,
  // 192..223
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26,
  26, 28, 27, 27, 27,
  // 224..255
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27,
  27, 27, 27, 27, 26,
  // EOS
  30,
];

/** Canonical codes, right-aligned, for symbols 0..256. */
export const HUFFMAN_CODES: Uint32Array = new Uint32Array(257);
/** Code lengths in bits, for symbols 0..256. */
export const HUFFMAN_LENGTHS: Uint8Array = Uint8Array.from(CODE_LENGTHS);

(() => {
  const order = Array.from({ length: 257 }, (_, i) => i).sort(
    (a, b) => CODE_LENGTHS[a]! - CODE_LENGTHS[b]! || a - b,
  );
  let code = 0;
  let len = CODE_LENGTHS[order[0]!]!;
  for (let k = 0; k < order.length; k++) {
    const sym = order[k]!;
    const l = CODE_LENGTHS[sym]!;
    if (k > 0) {
      code = (code + 1) * 2 ** (l - len);
      len = l;
    }
    HUFFMAN_CODES[sym] = code;
  }
})();

// Decoder state machine: states are the internal nodes of the code tree. For each state and
// nibble: next state, flags, emitted symbol. Flag bits: 1 = emits a symbol, 2 = failure (EOS
// or an invalid path), 4 = the state after this nibble may end the string (RFC 7541 §5.2:
// padding is at most 7 bits, all ones).
const FLAG_EMIT = 1;
const FLAG_FAIL = 2;
const FLAG_ACCEPT = 4;

interface TreeNode {
  children: [TreeNode | undefined, TreeNode | undefined];
  symbol: number;
  id: number;
  /** Bits of all-ones path from the root, or -1 when the path has a zero. */
  onesDepth: number;
}

const DECODE_NEXT: Uint16Array = new Uint16Array(256 * 16);
const DECODE_FLAGS: Uint8Array = new Uint8Array(256 * 16);
const DECODE_SYMBOL: Uint8Array = new Uint8Array(256 * 16);

(() => {
  const nodes: TreeNode[] = [];
  const node = (onesDepth: number): TreeNode => {
    const n: TreeNode = { children: [undefined, undefined], symbol: -1, id: nodes.length, onesDepth };
    nodes.push(n);
    return n;
  };
  const root = node(0);
  for (let sym = 0; sym < 257; sym++) {
    const len = HUFFMAN_LENGTHS[sym]!;
    const code = HUFFMAN_CODES[sym]!;
    let cur = root;
    for (let b = len - 1; b >= 0; b--) {
      const bit = Math.floor(code / 2 ** b) & 1;
      if (b === 0) {
        const leaf: TreeNode = { children: [undefined, undefined], symbol: sym, id: -1, onesDepth: -1 };
        cur.children[bit] = leaf;
      } else {
        let next = cur.children[bit];
        if (next === undefined) {
          next = node(bit === 1 && cur.onesDepth >= 0 ? cur.onesDepth + 1 : -1);
          cur.children[bit] = next;
        }
        cur = next;
      }
    }
  }
  for (const state of nodes) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let cur = state;
      let flags = 0;
      let symbol = 0;
      for (let b = 3; b >= 0; b--) {
        const next = cur.children[(nibble >> b) & 1];
        if (next === undefined || next.symbol === 256) {
          flags = FLAG_FAIL;
          break;
        }
        if (next.symbol >= 0) {
          flags |= FLAG_EMIT;
          symbol = next.symbol;
          cur = root;
        } else {
          cur = next;
        }
      }
      const slot = state.id * 16 + nibble;
      if ((flags & FLAG_FAIL) === 0 && cur.onesDepth >= 0 && cur.onesDepth <= 7) flags |= FLAG_ACCEPT;
      DECODE_NEXT[slot] = (flags & FLAG_FAIL) === 0 ? cur.id : 0;
      DECODE_FLAGS[slot] = flags;
      DECODE_SYMBOL[slot] = symbol;
    }
  }
})();

/**
 * The decoder's output buffer, one for the thread: a string is decoded into it and copied out
 * before {@link HuffmanCodec.decode} returns (one buffer per HPACK decoder was a part of an
 * idle HTTP/2 connection's memory).
 */
let decodeScratch: Buffer = Buffer.allocUnsafe(256);

/** Length in bytes of the Huffman encoding of `value` (its chars taken as latin1 octets). */
function encodedLength(value: string): number {
  let bits = 0;
  for (let i = 0; i < value.length; i++) bits += HUFFMAN_LENGTHS[value.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/**
 * Writes the Huffman encoding of `value` into `out` at `offset`; returns the end offset.
 * `out` must have room for {@link HuffmanCodec.encodedLength} bytes.
 */
function encodeInto(value: string, out: Uint8Array, offset: number): number {
  // Accumulate up to 30 + 7 bits: keep `bits` below 8 after each flush.
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < value.length; i++) {
    const sym = value.charCodeAt(i) & 0xff;
    const len = HUFFMAN_LENGTHS[sym]!;
    const code = HUFFMAN_CODES[sym]!;
    // acc has < 8 bits; appending up to 30 may exceed 32 bits, so use multiplication.
    acc = acc * 2 ** len + code;
    bits += len;
    while (bits >= 8) {
      bits -= 8;
      const byte = Math.floor(acc / 2 ** bits);
      out[offset++] = byte & 0xff;
      acc -= byte * 2 ** bits;
    }
  }
  if (bits > 0) {
    // RFC 7541 §5.2: pad with the most significant bits of EOS (all ones).
    out[offset++] = ((acc << (8 - bits)) | (0xff >> bits)) & 0xff;
  }
  return offset;
}

/**
 * Decodes `length` bytes of `input` at `offset` as a latin1 string. Throws
 * {@link HpackError} on EOS, on padding longer than 7 bits or not all ones (RFC 7541 §5.2).
 */
function decode(input: Uint8Array, offset: number, length: number): string {
  // Each byte yields at most 8 / 5 symbols: two per byte is a safe bound.
  const need = length * 2;
  if (decodeScratch.length < need)
    decodeScratch = Buffer.allocUnsafe(Math.max(need, decodeScratch.length * 2));
  const out = decodeScratch;
  let n = 0;
  let state = 0;
  let accept = true;
  const end = offset + length;
  for (let i = offset; i < end; i++) {
    const byte = input[i]!;
    let slot = state * 16 + (byte >> 4);
    let flags = DECODE_FLAGS[slot]!;
    if (flags & FLAG_FAIL) throw new HpackError('invalid Huffman code or EOS in a string (RFC 7541 §5.2)');
    if (flags & FLAG_EMIT) out[n++] = DECODE_SYMBOL[slot]!;
    state = DECODE_NEXT[slot]!;
    slot = state * 16 + (byte & 0xf);
    flags = DECODE_FLAGS[slot]!;
    if (flags & FLAG_FAIL) throw new HpackError('invalid Huffman code or EOS in a string (RFC 7541 §5.2)');
    if (flags & FLAG_EMIT) out[n++] = DECODE_SYMBOL[slot]!;
    state = DECODE_NEXT[slot]!;
    accept = (flags & FLAG_ACCEPT) !== 0;
  }
  if (!accept) {
    throw new HpackError('Huffman padding is longer than 7 bits or not the EOS prefix (RFC 7541 §5.2)');
  }
  return out.toString('latin1', 0, n);
}

/**
 * Huffman encoding and decoding of HPACK string literals (RFC 7541 §5.2). Functions only: the
 * decoder's scratch is one per thread (above), so there is nothing for an instance to hold.
 */
export const HuffmanCodec = Object.freeze({ encodedLength, encodeInto, decode });
