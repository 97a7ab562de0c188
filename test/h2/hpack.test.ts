import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HpackError } from '../../src/h2/h2-error.js';
import { HpackDecoder } from '../../src/h2/hpack-decoder.js';
import { HpackDynamicTable } from '../../src/h2/hpack-dynamic-table.js';
import { HpackEncoder } from '../../src/h2/hpack-encoder.js';
import { decodeHpackInteger, encodeHpackInteger } from '../../src/h2/hpack-integer.js';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, HuffmanCodec } from '../../src/h2/huffman-codec.js';
import { encodedFolders, flatHeaders, loadStories, requireHpackVectors } from './hpack-vectors.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('Huffman codes rebuilt from the lengths match codes printed in RFC 7541 Appendix B', () => {
  const spots: [number, number, number][] = [
    [0, 0x1ff8, 13],
    [1, 0x7fffd8, 23],
    [10, 0x3ffffffc, 30],
    [32, 0x14, 6],
    [48, 0x0, 5],
    [97, 0x3, 5],
    [127, 0xffffffc, 28],
    [128, 0xfffe6, 20],
    [199, 0x1ffffec, 25],
    [255, 0x3ffffee, 26],
    [256, 0x3fffffff, 30],
  ];
  for (const [sym, code, len] of spots) {
    assert.equal(HUFFMAN_CODES[sym], code, `symbol ${sym}`);
    assert.equal(HUFFMAN_LENGTHS[sym], len, `symbol ${sym}`);
  }
  // Kraft equality: a complete prefix code.
  let kraft = 0;
  for (let i = 0; i < 257; i++) kraft += 2 ** -HUFFMAN_LENGTHS[i]!;
  assert.equal(kraft, 1);
});

test('Huffman encode and decode: RFC 7541 Appendix C.4 and C.6 strings', () => {
  const cases: [string, string][] = [
    ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
    ['no-cache', 'a8eb 1064 9cbf'],
    ['custom-key', '25a8 49e9 5ba9 7d7f'],
    ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
    ['302', '6402'],
    ['private', 'aec3 771a 4b'],
    ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
    ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
    ['gzip', '9bd9 ab'],
  ];
  for (const [text, wire] of cases) {
    const bytes = hex(wire);
    assert.equal(HuffmanCodec.encodedLength(text), bytes.length);
    const out = Buffer.alloc(bytes.length);
    assert.equal(HuffmanCodec.encodeInto(text, out, 0), bytes.length);
    assert.deepEqual(out, bytes);
    assert.equal(HuffmanCodec.decode(bytes, 0, bytes.length), text);
  }
  // Every octet round-trips.
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('latin1');
  const out = Buffer.alloc(HuffmanCodec.encodedLength(all));
  HuffmanCodec.encodeInto(all, out, 0);
  assert.equal(HuffmanCodec.decode(out, 0, out.length), all);
});

test('Huffman decoding rejects EOS, long padding and padding that is not all ones', () => {
  // EOS (30 ones) padded: 0xff 0xff 0xff 0xfc
  assert.throws(() => HuffmanCodec.decode(hex('ffffffff'), 0, 4), HpackError);
  // 'a' = 00011 then padding 111: 0x1f is valid; a whole extra byte of ones is > 7 bits of padding.
  assert.equal(HuffmanCodec.decode(hex('1f'), 0, 1), 'a');
  assert.throws(() => HuffmanCodec.decode(hex('1fff'), 0, 2), HpackError);
  // padding with a zero bit: 'a' then 110
  assert.throws(() => HuffmanCodec.decode(hex('1e'), 0, 1), HpackError);
});

test('integers: RFC 7541 Appendix C.1 examples and limits', () => {
  const out = Buffer.alloc(8);
  assert.equal(encodeHpackInteger(10, 5, 0, out, 0), 1);
  assert.equal(out[0], 10);
  assert.equal(encodeHpackInteger(1337, 5, 0, out, 0), 3);
  assert.deepEqual([...out.subarray(0, 3)], [31, 154, 10]);
  assert.equal(encodeHpackInteger(42, 8, 0, out, 0), 1);
  const cursor = { offset: 0 };
  assert.equal(decodeHpackInteger(Buffer.from([31, 154, 10]), cursor, 3, 5), 1337);
  assert.equal(cursor.offset, 3);
  cursor.offset = 0;
  assert.throws(() => decodeHpackInteger(Buffer.from([31, 154]), cursor, 2, 5), HpackError);
  cursor.offset = 0;
  assert.throws(
    () => decodeHpackInteger(Buffer.from([31, 0xff, 0xff, 0xff, 0xff, 0x7f]), cursor, 6, 5),
    HpackError,
  );
});

test('dynamic table: sizes, eviction and size updates (RFC 7541 §4)', () => {
  const table = new HpackDynamicTable(100);
  table.add('aaaa', 'bbbb'); // 40
  table.add('cccc', 'dddd'); // 40
  assert.equal(table.size, 80);
  assert.equal(table.nameAt(1), 'cccc');
  table.add('eeee', 'ffff'); // evicts aaaa
  assert.equal(table.length, 2);
  assert.equal(table.nameAt(2), 'cccc');
  table.setMaxSize(40);
  assert.equal(table.length, 1);
  assert.equal(table.nameAt(1), 'eeee');
  table.add('x'.repeat(50), 'y'); // larger than the table: empties it
  assert.equal(table.length, 0);
  assert.equal(table.size, 0);
  const big = new HpackDynamicTable(1 << 20);
  for (let i = 0; i < 1000; i++) big.add(`n${i}`, `v${i}`);
  assert.equal(big.valueAt(1), 'v999');
  assert.equal(big.valueAt(1000), 'v0');
});

test('RFC 7541 Appendix C.3 and C.5: requests and responses with one context', () => {
  const dec = new HpackDecoder();
  assert.deepEqual(dec.decode(hex('828684410f7777772e6578616d706c652e636f6d')), [
    ':method',
    'GET',
    ':scheme',
    'http',
    ':path',
    '/',
    ':authority',
    'www.example.com',
  ]);
  assert.deepEqual(dec.decode(hex('828684be58086e6f2d6361636865')), [
    ':method',
    'GET',
    ':scheme',
    'http',
    ':path',
    '/',
    ':authority',
    'www.example.com',
    'cache-control',
    'no-cache',
  ]);
  assert.deepEqual(dec.decode(hex('828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565')), [
    ':method',
    'GET',
    ':scheme',
    'https',
    ':path',
    '/index.html',
    ':authority',
    'www.example.com',
    'custom-key',
    'custom-value',
  ]);
  assert.equal(dec.table.size, 164);
  const res = new HpackDecoder({ maxTableSize: 256 });
  res.decode(
    hex(
      '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d',
    ),
  );
  assert.equal(res.table.size, 222);
  assert.deepEqual(res.decode(hex('4803333037c1c0bf')), [
    ':status',
    '307',
    'cache-control',
    'private',
    'date',
    'Mon, 21 Oct 2013 20:13:21 GMT',
    'location',
    'https://www.example.com',
  ]);
});

test('decoder rejects malformed blocks with COMPRESSION_ERROR', () => {
  const bad = ['80', 'ff00', 'be', '4080', '0f2f', '82 20'];
  for (const wire of bad) {
    const dec = new HpackDecoder({ maxTableSize: 0 });
    assert.throws(
      () => dec.decode(hex(wire)),
      (err: unknown) => err instanceof HpackError && err.errorCode === 9,
      wire,
    );
  }
  // A size update above our SETTINGS_HEADER_TABLE_SIZE.
  assert.throws(() => new HpackDecoder({ maxTableSize: 100 }).decode(hex('3f4a')), HpackError);
});

test('decoder: a lowered table size must be acknowledged by a size update at the next block (RFC 7541 §4.2)', () => {
  const dec = new HpackDecoder();
  dec.setMaxTableSize(0);
  assert.throws(() => dec.decode(hex('82')), HpackError);
  const dec2 = new HpackDecoder();
  dec2.setMaxTableSize(0);
  assert.deepEqual(dec2.decode(hex('2082')), [':method', 'GET']);
});

test('HPACK bomb: a small block expanding past maxHeaderListSize is cut short but decoded to the end', () => {
  const enc = new HpackEncoder();
  const big = 'x'.repeat(3000);
  const first = Buffer.from(enc.encode(['x-big', big]));
  // 1000 one-byte references to the dynamic entry: ~3 MB decoded from 1 KB.
  const bomb = Buffer.alloc(1000, 0xbe);
  const dec = new HpackDecoder({ maxHeaderListSize: 16384 });
  dec.decode(first);
  const fields = dec.decode(bomb);
  assert.equal(dec.tooLarge, true);
  assert.ok(fields.length <= 10, `kept ${fields.length / 2} fields`);
  assert.equal(dec.listSize, 1000 * (5 + 3000 + 32));
  // The context is still in step: the next block decodes normally.
  assert.deepEqual(dec.decode(Buffer.from(enc.encode(['x-big', big]))), ['x-big', big]);
  assert.equal(dec.tooLarge, false);
});

test('encoder: never-indexed sensitive fields, Huffman only when shorter, size update signalled', () => {
  const enc = new HpackEncoder();
  const block = enc.encode([
    'authorization',
    'Bearer secret-token-value',
    'cookie',
    'a=1',
    'cookie',
    'session=' + 'z'.repeat(40),
  ]);
  // authorization: 0001 prefix with static name index 23 (15 + 8).
  assert.equal(block[0], 0x1f);
  assert.equal(block[1], 23 - 15);
  assert.equal(enc.table.length, 1); // only the long cookie was indexed
  const dec = new HpackDecoder();
  const again = Buffer.from(enc.encode(['cookie', 'session=' + 'z'.repeat(40)]));
  assert.equal(again.length, 1); // indexed
  // a string whose Huffman form is longer is sent raw
  const raw = enc.encode(['x-raw', '\u00ff\u00fe\u00fd']);
  assert.ok(raw.includes(Buffer.from('\u00ff\u00fe\u00fd', 'latin1')));
  enc.setPeerMaxTableSize(0);
  const after = enc.encode([':method', 'GET']);
  assert.deepEqual([...after], [0x20, 0x82]);
  assert.equal(enc.table.length, 0);
  assert.ok(dec);
});

test('hpack-test-case: every wire of every story in every encoded folder decodes to its headers', (t) => {
  if (!requireHpackVectors(t)) return;
  const folders = encodedFolders();
  assert.ok(folders.length >= 5, `found folders: ${folders.join(', ')}`);
  let blocks = 0;
  let stories = 0;
  for (const folder of folders) {
    for (const story of loadStories(folder)) {
      stories++;
      const dec = new HpackDecoder({ maxTableSize: 65536, maxHeaderListSize: 1 << 24 });
      for (const c of story.cases) {
        if (c.wire === undefined) continue;
        if (c.header_table_size !== undefined && c.header_table_size > 65536) {
          dec.setMaxTableSize(c.header_table_size);
        }
        let got: string[];
        try {
          got = dec.decode(hex(c.wire));
        } catch (err) {
          assert.fail(`${folder}/${story.file} seqno ${c.seqno}: ${(err as Error).message}`);
        }
        assert.deepEqual(got, flatHeaders(c), `${folder}/${story.file} seqno ${c.seqno}`);
        blocks++;
      }
    }
  }
  t.diagnostic(`decoded ${blocks} header blocks of ${stories} stories in ${folders.length} folders`);
  assert.ok(blocks > 10000, `only ${blocks} blocks`);
});

test('hpack-test-case: our encoding of every raw-data story round-trips through our decoder', (t) => {
  if (!requireHpackVectors(t)) return;
  let blocks = 0;
  let wire = 0;
  let plain = 0;
  for (const tableSize of [4096, 0, 256]) {
    for (const story of loadStories('raw-data')) {
      const enc = new HpackEncoder({ maxTableSize: tableSize });
      const dec = new HpackDecoder({ maxTableSize: tableSize, maxHeaderListSize: 1 << 24 });
      for (const c of story.cases) {
        const flat = flatHeaders(c);
        const block = enc.encode(flat);
        wire += block.length;
        for (const s of flat) plain += s.length;
        assert.deepEqual(dec.decode(Buffer.from(block)), flat, `${story.file}`);
        blocks++;
      }
    }
  }
  t.diagnostic(`round-tripped ${blocks} blocks; ${wire} bytes for ${plain} bytes of names and values`);
  assert.ok(blocks > 1000);
});

test('encoder: remembered literals (date, content-length) come out identical and decode right, past the memo cap', () => {
  const enc = new HpackEncoder();
  const dec = new HpackDecoder();
  const block = (fields: string[]) => Buffer.from(enc.encode(fields));
  const fields = (second: number, length: number) => [
    ':status',
    '200',
    'date',
    `Wed, 25 Nov 2026 15:00:${String(second).padStart(2, '0')} GMT`,
    'content-length',
    String(length),
  ];
  const first = block(fields(1, 11));
  assert.deepEqual(block(fields(1, 11)), first); // not indexed: the same octets again
  // More distinct values than the memo holds, then the first ones again.
  for (let s = 0; s < 40; s++) {
    const f = fields(s % 60, s);
    assert.deepEqual(dec.decode(block(f)), f);
  }
  assert.deepEqual(block(fields(1, 11)), first);
  assert.deepEqual(dec.decode(first), fields(1, 11));
  assert.notDeepEqual(block(fields(2, 11)), first);
});
