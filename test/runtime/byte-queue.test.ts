/**
 * Tests of ByteQueue: reads and searches across chunk boundaries, zero-copy results (proven by
 * comparing the backing ArrayBuffer), underflow errors, compaction of consumed chunks, and a
 * seeded randomized comparison against a plain concatenated Buffer.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { ByteQueue, ByteQueueUnderflowError } from '../../src/runtime/byte-queue.js';

/** A Buffer with its own ArrayBuffer (Buffer.from on a short string may share the pool slab). */
function own(text: string): Buffer {
  const b = Buffer.alloc(text.length);
  b.write(text, 'latin1');
  return b;
}

function queueOf(...parts: string[]): ByteQueue {
  const q = new ByteQueue();
  for (const part of parts) q.push(own(part));
  return q;
}

/** xorshift32: a small deterministic PRNG so a failing sequence can be replayed from its seed. */
class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.state = x;
    return x;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return this.next() % n;
  }
}

test('push counts bytes and ignores empty chunks', () => {
  const q = new ByteQueue();
  assert.equal(q.length, 0);
  q.push(Buffer.alloc(0));
  assert.equal(q.length, 0);
  q.push(own('abc'));
  q.push(Buffer.alloc(0));
  q.push(own('de'));
  assert.equal(q.length, 5);
  assert.equal(q.toBuffer().toString(), 'abcde');
});

test('peek reads bytes across chunk boundaries and returns -1 out of range', () => {
  const q = queueOf('ab', 'c', 'def');
  const expected = 'abcdef';
  for (let i = 0; i < expected.length; i++) assert.equal(q.peek(i), expected.charCodeAt(i), `index ${i}`);
  assert.equal(q.peek(6), -1);
  assert.equal(q.peek(-1), -1);
  q.skip(3);
  assert.equal(q.peek(0), 'd'.charCodeAt(0));
  assert.equal(q.peek(2), 'f'.charCodeAt(0));
  assert.equal(q.peek(3), -1);
});

test('take inside one chunk returns a view of it without copying', () => {
  const chunk = own('hello world');
  const q = new ByteQueue();
  q.push(chunk);
  q.push(own('!'));
  const hello = q.take(5);
  assert.equal(hello.toString(), 'hello');
  assert.equal(hello.buffer, chunk.buffer);
  assert.equal(hello.byteOffset, chunk.byteOffset);
  const rest = q.take(6);
  assert.equal(rest.toString(), ' world');
  assert.equal(rest.buffer, chunk.buffer);
  assert.equal(rest.byteOffset, chunk.byteOffset + 5);
  assert.equal(q.length, 1);
});

test('take of a whole chunk returns that very chunk', () => {
  const a = own('abc');
  const b = own('def');
  const q = new ByteQueue();
  q.push(a);
  q.push(b);
  assert.equal(q.take(3), a);
  assert.equal(q.take(3), b);
  assert.equal(q.length, 0);
});

test('take spanning chunks concatenates into a new buffer', () => {
  const a = own('abc');
  const b = own('de');
  const c = own('fgh');
  const q = new ByteQueue();
  q.push(a);
  q.push(b);
  q.push(c);
  q.skip(1);
  const out = q.take(6);
  assert.equal(out.toString(), 'bcdefg');
  assert.notEqual(out.buffer, a.buffer);
  assert.notEqual(out.buffer, b.buffer);
  assert.notEqual(out.buffer, c.buffer);
  assert.equal(q.length, 1);
  assert.equal(q.take(1).toString(), 'h');
});

test('take(0) returns an empty buffer and consumes nothing', () => {
  const q = queueOf('ab');
  assert.equal(q.take(0).length, 0);
  assert.equal(q.length, 2);
  assert.equal(new ByteQueue().take(0).length, 0);
});

test('takeChunks never copies and can append to a reused array', () => {
  const a = own('abc');
  const b = own('defg');
  const c = own('hi');
  const q = new ByteQueue();
  q.push(a);
  q.push(b);
  q.push(c);
  q.skip(1);
  const out: Buffer[] = [];
  assert.equal(q.takeChunks(7, out), out);
  assert.deepEqual(
    out.map((x) => x.toString()),
    ['bc', 'defg', 'h'],
  );
  assert.equal(out[0].buffer, a.buffer);
  assert.equal(out[0].byteOffset, a.byteOffset + 1);
  assert.equal(out[1], b, 'a whole chunk is handed over as is');
  assert.equal(out[2].buffer, c.buffer);
  assert.equal(q.length, 1);
  out.length = 0;
  q.takeChunks(1, out);
  assert.equal(out.length, 1);
  assert.equal(out[0].toString(), 'i');
  assert.equal(out[0].buffer, c.buffer);
  assert.deepEqual(q.takeChunks(0), []);
});

test('skip consumes across chunks', () => {
  const q = queueOf('abc', 'def', 'ghi');
  q.skip(4);
  assert.equal(q.length, 5);
  assert.equal(q.toBuffer().toString(), 'efghi');
  q.skip(5);
  assert.equal(q.length, 0);
  assert.equal(q.toBuffer().length, 0);
});

test('take, takeChunks and skip reject counts beyond the length or not integers', () => {
  const q = queueOf('abc', 'de');
  for (const n of [6, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    for (const consume of [
      (k: number) => q.take(k),
      (k: number) => q.takeChunks(k),
      (k: number) => q.skip(k),
    ]) {
      assert.throws(
        () => consume(n),
        (error: unknown) =>
          error instanceof ByteQueueUnderflowError &&
          error.code === 'AVX_BYTE_QUEUE_UNDERFLOW' &&
          Object.is(error.requested, n) &&
          error.available === 5,
      );
    }
  }
  assert.equal(q.length, 5, 'a rejected call consumes nothing');
  assert.equal(q.toBuffer().toString(), 'abcde');
});

test('indexOf finds a byte across chunks, honouring from and consumed bytes', () => {
  const q = queueOf('xab', 'c', 'dab');
  const a = 'a'.charCodeAt(0);
  assert.equal(q.indexOf(a), 1);
  assert.equal(q.indexOf(a, 2), 5);
  assert.equal(q.indexOf(a, 6), -1);
  assert.equal(q.indexOf(a, 100), -1);
  assert.equal(q.indexOf(a, -5), 1);
  // Unlike Buffer#indexOf, a negative `from` does not count from the end.
  assert.equal(queueOf('abca').indexOf(a, -1), 0);
  assert.equal(queueOf('ab', 'ca').indexOf(Buffer.from('a'), -1), 0);
  assert.equal(queueOf('ab', 'cab').indexOf(Buffer.from('ab'), -2), 0);
  assert.equal(q.indexOf('z'.charCodeAt(0)), -1);
  q.skip(2);
  // Consumed 'a' at head offset 1 must not be found; offsets are relative to the new start.
  assert.equal(q.indexOf(a), 3);
  assert.equal(q.indexOf(Buffer.from('d')), 2);
  assert.equal(new ByteQueue().indexOf(a), -1);
});

test('indexOf finds a CRLFCRLF needle split over two, three and four chunks', () => {
  const needle = Buffer.from('\r\n\r\n');
  const cases: [string[], number][] = [
    [['GET / HTTP/1.1\r\n\r\n'], 14],
    [['abc\r\n', '\r\nxyz'], 3],
    [['abc\r', '\n\r\nxyz'], 3],
    [['abc\r\n\r', '\n'], 3],
    [['ab\r', '\n', '\r\nz'], 2],
    [['ab\r', '\n\r', '\n'], 2],
    [['\r', '\n', '\r', '\n'], 0],
    [['a\r\n\r', 'x\r\n', '\r', '\n'], 5],
    [['\r\n\r\r\n', '\r', '\nq'], 3],
    [['\r\n\r', '\r\n\r'], -1],
    [['\r\n', '\r'], -1],
  ];
  for (const [parts, expected] of cases) {
    const q = queueOf(...parts);
    assert.equal(q.indexOf(needle), expected, JSON.stringify(parts));
    assert.equal(q.indexOf(needle), q.toBuffer().indexOf(needle), JSON.stringify(parts));
  }
});

test('indexOf with a needle honours from and partly consumed chunks', () => {
  const needle = Buffer.from('\r\n');
  const q = queueOf('a\r', '\nb\r\n', 'c\r', '\n');
  assert.equal(q.indexOf(needle), 1);
  assert.equal(q.indexOf(needle, 1), 1);
  assert.equal(q.indexOf(needle, 2), 4);
  assert.equal(q.indexOf(needle, 5), 7);
  assert.equal(q.indexOf(needle, 8), -1);
  q.skip(2);
  assert.equal(q.indexOf(needle), 2);
  assert.equal(q.indexOf(needle, 3), 5);
  assert.equal(q.indexOf(Buffer.from('b\r\nc\r\n')), 1);
  assert.equal(q.indexOf(Buffer.from('b\r\nc\r\nx')), -1, 'needle longer than what is left');
});

test('indexOf with an empty needle matches at from when from is in range', () => {
  const q = queueOf('ab', 'c');
  assert.equal(q.indexOf(Buffer.alloc(0)), 0);
  assert.equal(q.indexOf(Buffer.alloc(0), 3), 3);
  assert.equal(q.indexOf(Buffer.alloc(0), 4), -1);
});

test('toBuffer returns a view for a single chunk and concatenates several, consuming nothing', () => {
  const a = own('abcdef');
  const q = new ByteQueue();
  q.push(a);
  assert.equal(q.toBuffer(), a);
  q.skip(2);
  const view = q.toBuffer();
  assert.equal(view.toString(), 'cdef');
  assert.equal(view.buffer, a.buffer);
  const b = own('gh');
  q.push(b);
  const joined = q.toBuffer();
  assert.equal(joined.toString(), 'cdefgh');
  assert.notEqual(joined.buffer, a.buffer);
  assert.equal(q.length, 6);
});

test('clear drops everything and the queue stays usable', () => {
  const q = queueOf('abc', 'def');
  q.skip(1);
  q.clear();
  assert.equal(q.length, 0);
  assert.equal(q.peek(0), -1);
  assert.equal(q.indexOf(0x61), -1);
  q.push(own('xy'));
  assert.equal(q.take(2).toString(), 'xy');
});

test('thousands of small chunks consumed one by one stay correct through compaction', () => {
  const q = new ByteQueue();
  let expectedNext = 0;
  let pushed = 0;
  const byteAt = (i: number) => (i * 7 + 3) & 0xff;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 100; i++) q.push(Buffer.from([byteAt(pushed++)]));
    // Consume most but not all, so the dead prefix grows past the compaction threshold.
    while (q.length > 10) {
      assert.equal(q.peek(0), byteAt(expectedNext));
      assert.equal(q.take(1)[0], byteAt(expectedNext));
      expectedNext++;
    }
    assert.equal(q.indexOf(byteAt(expectedNext)), 0);
  }
  assert.equal(q.length, pushed - expectedNext);
  const rest = q.toBuffer();
  for (let i = 0; i < rest.length; i++) assert.equal(rest[i], byteAt(expectedNext + i));
});

test('randomized operations agree with a concatenated Buffer model', () => {
  const needles = ['\r\n\r\n', '\r\n', 'AB', 'A\rB', '\n\r\n', 'ABABA'].map((s) => Buffer.from(s));
  const alphabet = [0x0d, 0x0a, 0x41, 0x42];
  for (const seed of [1, 2, 3, 0xc0ffee]) {
    const random = new SeededRandom(seed);
    const q = new ByteQueue();
    let model = Buffer.alloc(0);
    const where = (op: number, step: number) => `seed ${seed}, step ${step}, op ${op}`;
    for (let step = 0; step < 4000; step++) {
      const op = random.below(10);
      const at = where(op, step);
      switch (op) {
        case 0:
        case 1:
        case 2: {
          const size = random.below(8) === 0 ? random.below(60) : random.below(6);
          const chunk = Buffer.alloc(size);
          for (let i = 0; i < size; i++) chunk[i] = alphabet[random.below(alphabet.length)];
          q.push(chunk);
          model = Buffer.concat([model, chunk]);
          break;
        }
        case 3: {
          const n = random.below(model.length + 1);
          assert.deepEqual(q.take(n), model.subarray(0, n), at);
          model = model.subarray(n);
          break;
        }
        case 4: {
          const n = random.below(model.length + 1);
          const parts = q.takeChunks(n);
          assert.ok(
            parts.every((p) => p.length > 0),
            at,
          );
          assert.deepEqual(Buffer.concat(parts), model.subarray(0, n), at);
          model = model.subarray(n);
          break;
        }
        case 5: {
          const n = random.below(model.length + 1);
          q.skip(n);
          model = model.subarray(n);
          break;
        }
        case 6: {
          const i = random.below(model.length + 2);
          assert.equal(q.peek(i), i < model.length ? model[i] : -1, at);
          break;
        }
        case 7: {
          const byte = alphabet[random.below(alphabet.length)];
          const from = random.below(model.length + 2);
          assert.equal(q.indexOf(byte, from), model.indexOf(byte, from), at);
          break;
        }
        case 8: {
          const needle = needles[random.below(needles.length)];
          const from = random.below(model.length + 2);
          assert.equal(q.indexOf(needle, from), model.indexOf(needle, from), at);
          break;
        }
        default: {
          if (random.below(50) === 0) {
            q.clear();
            model = Buffer.alloc(0);
          } else {
            assert.deepEqual(q.toBuffer(), model, at);
          }
        }
      }
      assert.equal(q.length, model.length, at);
    }
  }
});
