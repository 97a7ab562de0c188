/**
 * QPACK unit tests (RFC 9204): static table, Required Insert Count and Base, hand-built
 * encoder-stream and field-section bytes, decoder-stream instructions, blocked streams,
 * limits and typed errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeHpackInteger } from '../../src/h2/hpack-integer.js';
import { QpackDecoder } from '../../src/h3/qpack-decoder.js';
import { QpackDynamicTable } from '../../src/h3/qpack-dynamic-table.js';
import { QpackEncoder } from '../../src/h3/qpack-encoder.js';
import {
  QpackDecoderStreamError,
  QpackDecompressionError,
  QpackEncoderStreamError,
  QpackErrorCode,
} from '../../src/h3/qpack-error.js';
import {
  decodeBase,
  decodeRequiredInsertCount,
  encodeRequiredInsertCount,
  qpackMaxEntries,
} from '../../src/h3/qpack-field-section-prefix.js';
import { QPACK_STATIC_COUNT, QPACK_STATIC_TABLE } from '../../src/h3/qpack-static-table.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('static table: 99 entries of RFC 9204 Appendix A', () => {
  assert.equal(QPACK_STATIC_TABLE.length, QPACK_STATIC_COUNT);
  assert.deepEqual(QPACK_STATIC_TABLE[0], [':authority', '']);
  assert.deepEqual(QPACK_STATIC_TABLE[17], [':method', 'GET']);
  assert.deepEqual(QPACK_STATIC_TABLE[25], [':status', '200']);
  assert.deepEqual(QPACK_STATIC_TABLE[31], ['accept-encoding', 'gzip, deflate, br']);
  assert.deepEqual(QPACK_STATIC_TABLE[62], ['x-xss-protection', '1; mode=block']);
  assert.deepEqual(QPACK_STATIC_TABLE[98], ['x-frame-options', 'sameorigin']);
});

test('Required Insert Count: RFC 9204 §4.5.1.1 encoding, wrap-around and invalid values', () => {
  // §4.5.1.1 example: a 100-octet table gives MaxEntries 3 (values modulo 6); with 10
  // inserts, an encoded 4 means 9.
  const maxEntries = qpackMaxEntries(100);
  assert.equal(maxEntries, 3);
  assert.equal(decodeRequiredInsertCount(4, maxEntries, 10), 9);
  assert.equal(encodeRequiredInsertCount(9, maxEntries), 4);
  for (let total = 0; total < 40; total++) {
    for (let ric = Math.max(1, total - maxEntries + 1); ric <= total + maxEntries; ric++) {
      assert.equal(
        decodeRequiredInsertCount(encodeRequiredInsertCount(ric, maxEntries), maxEntries, total),
        ric,
      );
    }
  }
  assert.equal(decodeRequiredInsertCount(0, maxEntries, 5), 0);
  assert.equal(decodeRequiredInsertCount(7, maxEntries, 0), -1, 'above 2 * MaxEntries');
  assert.equal(decodeRequiredInsertCount(1, 0, 0), -1, 'no dynamic table');
  assert.equal(decodeBase(2, true, 1), 0);
  assert.equal(decodeBase(2, false, 3), 5);
  assert.equal(decodeBase(0, true, 1), -1, 'negative Base');
});

test('decoder: literal with static name reference (RFC 9204 Appendix B.1)', () => {
  const decoder = new QpackDecoder();
  const s = decoder.decodeFieldSection(0, hex('0000 510b 2f69 6e64 6578 2e68 746d 6c'));
  assert.deepEqual(s?.fields, [':path', '/index.html']);
  assert.equal(s?.requiredInsertCount, 0);
  assert.equal(decoder.takeDecoderStreamBytes().length, 0, 'nothing to acknowledge');
});

test('decoder: inserts, post-base references, acknowledgment and blocking (RFC 9204 Appendix B.2)', () => {
  const decoder = new QpackDecoder({ maxTableCapacity: 220 });
  // The section arrives first: Required Insert Count 2 (encoded 3), Base 0, two post-base lines.
  assert.equal(decoder.decodeFieldSection(4, hex('0381 10 11')), undefined);
  assert.equal(decoder.blockedStreamCount, 1);
  const encoderStream = hex('3fbd01 c00f7777772e6578616d706c652e636f6d c10c2f73616d706c652f70617468');
  // Byte by byte: the section is returned by the call that completes the second insert.
  const got = [];
  for (const b of encoderStream) got.push(...decoder.receiveEncoderStream(Uint8Array.of(b)));
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]!.fields, [':authority', 'www.example.com', ':path', '/sample/path']);
  assert.equal(decoder.table.capacity, 220);
  assert.equal(decoder.table.size, 106);
  // Section Acknowledgment for stream 4; the ack covers both inserts, so no increment.
  assert.deepEqual(decoder.takeDecoderStreamBytes(), hex('84'));
  // Indexed relative reference: Required Insert Count 2, Base 2, relative index 0 = newest.
  assert.deepEqual(decoder.decodeFieldSection(8, hex('0300 80'))?.fields, [':path', '/sample/path']);
  // A Duplicate then an Insert Count Increment of 1.
  decoder.receiveEncoderStream(hex('01'));
  assert.deepEqual(decoder.takeDecoderStreamBytes(), hex('88 01'));
  assert.equal(decoder.table.insertCount, 3);
  assert.equal(decoder.table.nameAt(2), ':authority');
});

test('decoder: encoder-stream errors (RFC 9204 §4.3, §3.2.2)', () => {
  const cases: [string, string][] = [
    ['3fe21f', 'capacity 4097 above the maximum 4096'],
    ['ff63', 'static index 162'],
    ['80', 'dynamic name reference into an empty table'],
    ['00', 'duplicate of nothing'],
  ];
  for (const [bytes, why] of cases) {
    const decoder = new QpackDecoder({ maxTableCapacity: 4096 });
    assert.throws(() => decoder.receiveEncoderStream(hex(bytes)), QpackEncoderStreamError, why);
  }
  // An entry larger than the capacity: capacity 32 octets, then an entry of 33.
  const decoder = new QpackDecoder({ maxTableCapacity: 4096 });
  decoder.receiveEncoderStream(hex('3f01'));
  assert.throws(
    () => decoder.receiveEncoderStream(hex('c1 00')),
    (err: unknown) => {
      assert.ok(err instanceof QpackEncoderStreamError);
      assert.equal(err.errorCode, QpackErrorCode.QPACK_ENCODER_STREAM_ERROR);
      return true;
    },
  );
  // An incomplete instruction longer than any insertable entry is refused, not buffered.
  const small = new QpackDecoder({ maxTableCapacity: 64 });
  small.receiveEncoderStream(hex('3f21'));
  assert.throws(() => small.receiveEncoderStream(Buffer.concat([hex('5f ff 7f'), Buffer.alloc(400)])));
});

test('decoder: field-section errors (RFC 9204 §4.5, §2.2.3)', () => {
  const decoder = (): QpackDecoder => {
    const d = new QpackDecoder({ maxTableCapacity: 4096 });
    d.receiveEncoderStream(hex('3f e1 1f c0 03 616263'));
    return d;
  };
  const cases: [string, string][] = [
    ['0000 ff63', 'static index out of range'],
    ['0200 10', 'post-base reference at the Required Insert Count'],
    ['0200 81', 'relative reference below 0'],
    ['ff0000', 'encoded Required Insert Count above 2 * MaxEntries'],
    ['0000 2f', 'truncated literal name'],
    ['0000 5f', 'truncated name index'],
    ['0000 51 8f ff', 'Huffman string running past the end'],
    ['0000 51 81 00', 'Huffman padding not all ones'],
  ];
  for (const [bytes, why] of cases) {
    assert.throws(() => decoder().decodeFieldSection(8, hex(bytes)), QpackDecompressionError, why);
  }
  // Valid: Required Insert Count 1 (encoded 2), Base 1, relative 0.
  assert.deepEqual(decoder().decodeFieldSection(8, hex('0200 80'))?.fields, [':authority', 'abc']);
});

test('decoder: blocked streams limit and stream cancellation (RFC 9204 §2.2.1, §4.4.2)', () => {
  const decoder = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 1 });
  assert.equal(decoder.decodeFieldSection(4, hex('0200 80')), undefined);
  // A second section of the same stream waits behind the first, no new blocked stream.
  assert.equal(decoder.decodeFieldSection(4, hex('0000 d1')), undefined);
  assert.throws(() => decoder.decodeFieldSection(8, hex('0200 80')), QpackDecompressionError);

  const d2 = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 1 });
  assert.equal(d2.decodeFieldSection(4, hex('0200 80')), undefined);
  d2.cancelStream(4);
  assert.equal(d2.blockedStreamCount, 0);
  assert.deepEqual(d2.takeDecoderStreamBytes(), hex('44'));
  assert.deepEqual(d2.receiveEncoderStream(hex('3fe11f c003616263')), []);
  assert.deepEqual(d2.takeDecoderStreamBytes(), hex('01'));

  const d3 = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 0 });
  assert.throws(
    () => d3.decodeFieldSection(4, hex('0200 80')),
    QpackDecompressionError,
    'no blocking allowed',
  );
});

test('decoder: sections in order per stream once unblocked', () => {
  const decoder = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 4 });
  assert.equal(decoder.decodeFieldSection(4, hex('0200 80')), undefined);
  assert.equal(decoder.decodeFieldSection(4, hex('0000 d1')), undefined);
  const out = decoder.receiveEncoderStream(hex('3fe11f c003616263'));
  assert.deepEqual(
    out.map((s) => s.fields),
    [
      [':authority', 'abc'],
      [':method', 'GET'],
    ],
  );
});

test('decoder: a section over maxFieldSectionSize is flagged, cut short and still acknowledged', () => {
  const decoder = new QpackDecoder({ maxTableCapacity: 4096, maxFieldSectionSize: 50 });
  decoder.receiveEncoderStream(hex('3fe11f c003616263'));
  decoder.takeDecoderStreamBytes();
  const s = decoder.decodeFieldSection(4, hex('0200 80 d1'));
  assert.equal(s?.tooLarge, true);
  assert.deepEqual(s?.fields, [':authority', 'abc']);
  assert.equal(s?.size, 10 + 3 + 32 + 7 + 3 + 32);
  assert.deepEqual(decoder.takeDecoderStreamBytes(), hex('84'));
});

test('encoder: static-only output, Huffman when shorter, N bit for authorization', () => {
  const encoder = new QpackEncoder();
  const section = encoder.encodeFieldSection(0, [
    ':method',
    'GET',
    ':path',
    '/index.html',
    'authorization',
    'x',
  ]);
  // Prefix 0000, :method GET indexed (d1), :path with a literal value, authorization with N.
  assert.equal(section.subarray(0, 3).toString('hex'), '0000d1');
  assert.equal(section[3], 0x51);
  assert.equal(section[4]! & 0x80, 0x80, '/index.html is shorter Huffman-coded');
  const auth = section.indexOf(0x70 | 0x0f);
  assert.ok(auth > 0, 'authorization: 01 N=1 T=1 with index 84 (4-bit prefix, continued)');
  assert.equal(encoder.takeEncoderStreamBytes().length, 0, 'no dynamic table without peer settings');
  const decoder = new QpackDecoder();
  assert.deepEqual(decoder.decodeFieldSection(0, section)?.fields, [
    ':method',
    'GET',
    ':path',
    '/index.html',
    'authorization',
    'x',
  ]);
});

test('encoder: dynamic table inserts, acknowledgments and limits', () => {
  const encoder = new QpackEncoder({ peerMaxTableCapacity: 200, peerMaxBlockedStreams: 1 });
  const decoder = new QpackDecoder({ maxTableCapacity: 200, maxBlockedStreams: 1 });
  const fields = ['x-custom', 'value-1', 'user-agent', 'test/1.0'];
  // Stream 0 may block: the new entries are referenced before any acknowledgment.
  const s0 = encoder.encodeFieldSection(0, fields);
  assert.equal(encoder.blockingStreamCount, 1);
  // Stream 4 may not: the blocked-streams limit (1) is taken, so it uses literals.
  const s4 = encoder.encodeFieldSection(4, fields);
  assert.equal(s4[0], 0, 'Required Insert Count 0');
  assert.equal(encoder.blockingStreamCount, 1);
  assert.equal(decoder.decodeFieldSection(0, s0), undefined);
  assert.deepEqual(decoder.decodeFieldSection(4, s4)?.fields, fields);
  const unblocked = decoder.receiveEncoderStream(encoder.takeEncoderStreamBytes());
  assert.deepEqual(unblocked[0]?.fields, fields);
  encoder.receiveDecoderStream(decoder.takeDecoderStreamBytes());
  assert.equal(encoder.knownReceivedCount, 2);
  assert.equal(encoder.blockingStreamCount, 0);
  // Now acknowledged entries are used without risk of blocking.
  const s8 = encoder.encodeFieldSection(8, fields);
  assert.equal(s8.length, 4, 'prefix and two one-byte indexed lines');
  assert.deepEqual(decoder.decodeFieldSection(8, s8)?.fields, fields);
  assert.ok(encoder.table.size <= 200);
});

test('encoder: decoder-stream errors (RFC 9204 §4.4)', () => {
  const encoder = new QpackEncoder({ peerMaxTableCapacity: 4096, peerMaxBlockedStreams: 10 });
  assert.throws(() => encoder.receiveDecoderStream(hex('84')), QpackDecoderStreamError, 'ack of nothing');
  assert.throws(() => encoder.receiveDecoderStream(hex('00')), QpackDecoderStreamError, 'increment of 0');
  assert.throws(
    () => encoder.receiveDecoderStream(hex('01')),
    QpackDecoderStreamError,
    'increment past inserts',
  );
  encoder.receiveDecoderStream(hex('44')); // cancellation of a stream without references is fine
  // Split instructions are reassembled.
  encoder.encodeFieldSection(200, ['x-a', 'b']);
  assert.equal(encoder.table.insertCount, 1);
  assert.equal(encoder.blockingStreamCount, 1);
  // Section Acknowledgment of stream 200 (127 + 73), in two pieces.
  encoder.receiveDecoderStream(hex('ff'));
  encoder.receiveDecoderStream(hex('49'));
  assert.equal(encoder.knownReceivedCount, 1);
  assert.equal(encoder.blockingStreamCount, 0);
  assert.throws(
    () => encoder.receiveDecoderStream(hex('ff ff ff ff ff ff ff ff ff ff ff')),
    QpackDecoderStreamError,
  );
});

test('dynamic table: absolute indices, eviction and draining index (RFC 9204 §3.2)', () => {
  const table = new QpackDynamicTable(100);
  table.insert('a', '1'); // 34
  table.insert('b', '2'); // 34
  assert.equal(table.evictionsNeeded(34), 1);
  table.insert('c', '3');
  assert.equal(table.droppedCount, 1);
  assert.equal(table.has(0), false);
  assert.equal(table.nameAt(2), 'c');
  assert.equal(table.drainingIndex(34), 2);
  assert.equal(table.evictionsNeeded(101), -1);
  table.setCapacity(40);
  assert.equal(table.length, 1);
  assert.equal(table.insertCount, 3);
});

test('decoder-stream stream ids above 2^31 are read (RFC 9204 §4.1.1 asks for 62-bit integers)', () => {
  const encoder = new QpackEncoder({ peerMaxTableCapacity: 0, peerMaxBlockedStreams: 0 });
  // Stream Cancellation (§4.4.2): 01 + 6-bit prefix; stream id 2^40 as a prefixed integer.
  const cancel = (id: number): Uint8Array => {
    const out = new Uint8Array(12);
    const end = encodeHpackInteger(id, 6, 0x40, out, 0);
    return out.subarray(0, end);
  };
  assert.doesNotThrow(() => encoder.receiveDecoderStream(cancel(2 ** 40)));
  assert.doesNotThrow(() => encoder.receiveDecoderStream(cancel(Number.MAX_SAFE_INTEGER)));
  assert.throws(() => encoder.receiveDecoderStream(cancel(2 ** 60)), QpackDecoderStreamError);
});
