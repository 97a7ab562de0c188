// Tests for ProtobufWriter (src/telemetry/tracing/protobuf-writer.ts): every value it writes is
// compared byte for byte with protobufjs's writer and read back with protobufjs's reader; the
// length of a nested value is right whether the room reserved for it was too small, right or
// too large; and a write that outgrows the buffer keeps everything written before it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { ProtobufWriter, varintSize, WireType } from '../../../src/telemetry/tracing/protobuf-writer.js';

/** What `write` writes with our writer, starting from a buffer of `size` bytes. */
function ours(write: (w: ProtobufWriter) => void, size = 64): Buffer {
  const w = new ProtobufWriter(Buffer.alloc(size));
  write(w);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

function theirs(write: (w: protobuf.Writer) => void): Buffer {
  const w = protobuf.Writer.create();
  write(w);
  return Buffer.from(w.finish());
}

test("varints are minimal and match protobufjs, int64 negatives as ten-byte two's complement", () => {
  const cases = [
    {
      type: 'uint',
      values: [0, 1, 127, 128, 300, 16383, 16384, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1],
      ours: (w: ProtobufWriter, v: number) => w.uint(v),
      theirs: (w: protobuf.Writer, v: number) => w.uint64(v),
      read: (bytes: Buffer) => protobuf.Reader.create(bytes).uint64().toString(),
    },
    {
      type: 'int64',
      values: [
        0,
        5,
        -1,
        -2,
        -(2 ** 31),
        2 ** 31,
        -(2 ** 53) + 1,
        2 ** 53 + 2,
        2 ** 62,
        -(2 ** 62),
        -(2 ** 63),
      ],
      ours: (w: ProtobufWriter, v: number) => w.int64(v),
      theirs: (w: protobuf.Writer, v: number) => w.int64(v),
      read: (bytes: Buffer) => protobuf.Reader.create(bytes).int64().toString(),
    },
  ];
  for (const c of cases) {
    for (const v of c.values) {
      const bytes = ours((w) => c.ours(w, v));
      assert.deepEqual(
        bytes,
        theirs((w) => c.theirs(w, v)),
        `${c.type} ${v}`,
      );
      assert.equal(c.read(bytes), BigInt(v).toString(), `${c.type} ${v} read back`);
      if (v >= 0) assert.equal(bytes.length, varintSize(v), `size of ${v}`);
    }
  }
  // The protobuf "Encoding" guide's example, and -1 as an int64.
  assert.deepEqual(
    ours((w) => w.uint(300)),
    Buffer.from([0xac, 0x02]),
  );
  assert.deepEqual(
    ours((w) => w.int64(-1)),
    Buffer.from('ffffffffffffffffff01', 'hex'),
  );
});

test('tags, fixed64, doubles, bytes and hex ids match protobufjs', () => {
  assert.deepEqual(
    ours((w) => {
      w.tag(1, WireType.Varint);
      w.tag(15, WireType.Len);
      w.tag(16, WireType.I64);
      w.tag(2047, WireType.I32);
    }),
    theirs((w) =>
      w
        .uint32((1 << 3) | 0)
        .uint32((15 << 3) | 2)
        .uint32((16 << 3) | 1)
        .uint32((2047 << 3) | 5),
    ),
  );
  assert.deepEqual(
    ours((w) => w.fixed64(0x89abcdef, 0x01234567)),
    Buffer.from([0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01]),
  );
  for (const d of [0, -0, 1.5, -2.25e-300, Number.MAX_VALUE, Number.POSITIVE_INFINITY]) {
    assert.deepEqual(
      ours((w) => w.double(d)),
      theirs((w) => w.double(d)),
      `double ${d}`,
    );
  }
  const raw = Uint8Array.from({ length: 200 }, (_, i) => (i * 7) & 0xff);
  assert.deepEqual(
    ours((w) => w.bytes(raw)),
    theirs((w) => w.bytes(raw)),
  );
  let at = -1;
  const id = ours((w) => {
    w.uint(9);
    at = w.hexBytes('0af7651916cd43dd8448eb211c80319c');
  });
  assert.equal(at, 2, 'the offset of the id bytes, after the length');
  assert.deepEqual(id, Buffer.from('09100af7651916cd43dd8448eb211c80319c', 'hex'));
  assert.deepEqual(
    ours((w) => w.hexBytes('00F067AA0BA902B7')),
    Buffer.from('0800f067aa0ba902b7', 'hex'),
  );
});

test('strings: ASCII, UTF-8 and lengths of one, two and three bytes match protobufjs', () => {
  const texts = [
    '',
    'GET /hello',
    'caf\u00e9 \u{1F600} "x"\\\u0000',
    'a'.repeat(127),
    'a'.repeat(128),
    '\u00e9'.repeat(50), // 50 units, 100 bytes: the length still takes one byte
    '\u00e9'.repeat(64), // 128 bytes: the length takes two, more than the one reserved
    '\u20ac'.repeat(6000), // 18000 bytes: three
    `${'x'.repeat(20000)}\u00ff`,
  ];
  for (const text of texts) {
    const bytes = ours((w) => w.string(text), 8);
    assert.deepEqual(
      bytes,
      theirs((w) => w.string(text)),
      `string of ${text.length}`,
    );
    assert.equal(protobuf.Reader.create(bytes).string(), text);
  }
});

test('nested values: the length is right for every reservation, what follows the value moves with it', () => {
  for (const contentLength of [0, 5, 127, 128, 300, 16383, 16384, 70000]) {
    for (const reserve of [1, 2, 3, 4]) {
      const content = Buffer.alloc(contentLength, 0x5a);
      const bytes = ours((w) => {
        w.tag(1, WireType.Varint);
        w.uint(7);
        w.tag(2, WireType.Len);
        const start = w.begin(reserve);
        w.raw(content);
        const moved = w.end(start, reserve);
        assert.equal(moved, varintSize(contentLength) - reserve);
        w.tag(3, WireType.Varint);
        w.uint(9);
      }, 4);
      const expected = theirs((w) =>
        w.uint32(0x08).uint32(7).uint32(0x12).bytes(content).uint32(0x18).uint32(9),
      );
      assert.deepEqual(bytes, expected, `${contentLength} bytes in ${reserve} reserved`);
    }
  }
});

test('a nested message inside a nested message, both moved, reads back with protobufjs', () => {
  // message Outer { Inner inner = 1; uint32 after = 2; } message Inner { string s = 1; uint64 n = 2; }
  const root = protobuf.parse(`
    syntax = "proto3";
    message Inner { string s = 1; uint64 n = 2; }
    message Outer { Inner inner = 1; uint32 after = 2; }
  `).root;
  const Outer = root.lookupType('Outer');
  const s = 'y'.repeat(200);
  const bytes = ours((w) => {
    w.tag(1, WireType.Len);
    const outer = w.begin(1);
    w.tag(1, WireType.Len);
    w.string(s);
    w.tag(2, WireType.Varint);
    w.uint(2 ** 40);
    w.end(outer, 1);
    w.tag(2, WireType.Varint);
    w.uint(77);
  }, 2);
  const decoded = Outer.toObject(Outer.decode(bytes), { longs: String });
  assert.deepEqual(decoded, { inner: { s, n: String(2 ** 40) }, after: 77 });
  assert.deepEqual(bytes, Buffer.from(Outer.encode(Outer.fromObject(decoded)).finish()));
});
