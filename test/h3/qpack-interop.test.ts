/**
 * QPACK against the offline-interop vectors (../shared/vectors/qpack): every encoded file of
 * nghttp3 and quinn decodes to its QIF, every error input is rejected with a typed error, our
 * encoder's output decodes back to each QIF, and random splits of the input change nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QpackDecoder, type QpackFieldSection } from '../../src/h3/qpack-decoder.js';
import { QpackEncoder } from '../../src/h3/qpack-encoder.js';
import { QpackError } from '../../src/h3/qpack-error.js';
import { seededRandom } from '../seeded-random.js';
import {
  encodedFiles,
  errorFiles,
  loadQif,
  type QpackBlock,
  type QpackEncodedFile,
  qifNames,
  readBlocks,
  requireQpackVectors,
} from './qpack-vectors.js';

/** Cuts `bytes` into pieces: byte by byte when `random` is undefined, else random sizes 1..17. */
function pieces(bytes: Uint8Array, random: (() => number) | undefined): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const n = random === undefined ? 1 : 1 + Math.floor(random() * 17);
    out.push(bytes.subarray(offset, offset + n));
    offset += n;
  }
  if (bytes.length === 0) out.push(bytes);
  return out;
}

type Split = 'whole' | 'bytes' | number;

/**
 * Decodes the blocks of one file with a decoder set up as its name says; returns the header
 * sets in stream-id order. `split` feeds every block whole, byte by byte, or in random chunks
 * (seeded by the number).
 */
function decodeBlocks(f: QpackEncodedFile, blocks: QpackBlock[], split: Split = 'whole'): string[][] {
  const decoder = new QpackDecoder({
    maxTableCapacity: f.tableCapacity,
    maxBlockedStreams: f.maxBlockedStreams,
    // The qpack-05 round predates RFC 9204 §3.2.3: the table starts at its maximum capacity.
    initialTableCapacity: f.tableCapacity,
    maxFieldSectionSize: 1 << 24,
  });
  const random = typeof split === 'number' ? seededRandom(split) : undefined;
  const sections: QpackFieldSection[] = [];
  for (const { streamId, bytes } of blocks) {
    if (streamId === 0) {
      if (split === 'whole') sections.push(...decoder.receiveEncoderStream(bytes));
      else for (const p of pieces(bytes, random)) sections.push(...decoder.receiveEncoderStream(p));
    } else {
      let s: QpackFieldSection | undefined;
      if (split === 'whole') s = decoder.decodeFieldSection(streamId, bytes);
      else {
        for (const p of pieces(bytes, random)) decoder.receiveFieldSectionData(streamId, p);
        s = decoder.endFieldSection(streamId);
      }
      if (s !== undefined) sections.push(s);
    }
    decoder.takeDecoderStreamBytes();
  }
  assert.equal(decoder.blockedStreamCount, 0, `${f.file}: streams still blocked at the end`);
  sections.sort((a, b) => a.streamId - b.streamId);
  for (const s of sections) assert.equal(s.tooLarge, false);
  return sections.map((s) => s.fields);
}

test('decoder: every encoded/qpack-05 file decodes to its QIF', async (t) => {
  if (!requireQpackVectors(t)) return;
  const files = encodedFiles();
  assert.ok(files.length > 0, 'no encoded files found');
  const qifs = new Map<string, string[][]>();
  let decoded = 0;
  for (const f of files) {
    await t.test(`${f.encoder}/${f.file}`, () => {
      let expected = qifs.get(f.qif);
      if (expected === undefined) {
        expected = loadQif(f.qif);
        qifs.set(f.qif, expected);
      }
      const got = decodeBlocks(f, readBlocks(f.path));
      assert.equal(got.length, expected.length, 'number of header sets');
      for (let i = 0; i < got.length; i++) assert.deepEqual(got[i], expected[i], `header set ${i + 1}`);
      decoded++;
    });
  }
  t.diagnostic(`decoded ${decoded} of ${files.length} files`);
});

/**
 * Files of encoded/errors that RFC 9204 accepts: err9 (00 00 c0, static index 0) and err10
 * (00 00 fe, static index 62) are invalid only with HPACK's 1-based 61-entry static table,
 * which QPACK used before draft -03; with RFC 9204 Appendix A they are `:authority: ` and
 * `x-xss-protection: 1; mode=block`. They are pinned here rather than rejected.
 */
const VALID_UNDER_RFC_9204: ReadonlyMap<string, string[]> = new Map([
  ['err9', [':authority', '']],
  ['err10', ['x-xss-protection', '1; mode=block']],
]);

test('decoder: encoded/errors inputs are rejected with typed errors', async (t) => {
  if (!requireQpackVectors(t)) return;
  const files = errorFiles();
  assert.ok(files.length > 0, 'no error files found');
  let rejected = 0;
  for (const path of files) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    await t.test(name, () => {
      const decoder = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 100 });
      const run = (): string[][] => {
        const out: string[][] = [];
        for (const { streamId, bytes } of readBlocks(path)) {
          if (streamId === 0) for (const s of decoder.receiveEncoderStream(bytes)) out.push(s.fields);
          else {
            const s = decoder.decodeFieldSection(streamId, bytes);
            if (s !== undefined) out.push(s.fields);
          }
        }
        return out;
      };
      const pinned = VALID_UNDER_RFC_9204.get(name);
      if (pinned !== undefined) {
        assert.deepEqual(run(), [pinned]);
        return;
      }
      assert.throws(run, (err: unknown) => {
        assert.ok(err instanceof QpackError, `not a QpackError: ${String(err)}`);
        assert.ok(err.errorCode >= 0x200 && err.errorCode <= 0x202);
        return true;
      });
      // The decoder stays failed: every later call throws the same error.
      assert.throws(() => decoder.receiveEncoderStream(Buffer.alloc(0)), QpackError);
      rejected++;
    });
  }
  t.diagnostic(
    `rejected ${rejected} of ${files.length} error files (${VALID_UNDER_RFC_9204.size} valid under RFC 9204)`,
  );
});

test('decoder: byte-by-byte and random splits of every qpack-05 netbsd file and some fb files', async (t) => {
  if (!requireQpackVectors(t)) return;
  const files = encodedFiles().filter(
    (f) => f.qif.startsWith('netbsd') || (f.qif === 'fb-resp' && f.tableCapacity >= 512),
  );
  for (const f of files) {
    await t.test(`${f.encoder}/${f.file}`, () => {
      const blocks = readBlocks(f.path);
      const whole = decodeBlocks(f, blocks);
      assert.deepEqual(decodeBlocks(f, blocks, 'bytes'), whole);
      for (const seed of [1, 2, 3]) assert.deepEqual(decodeBlocks(f, blocks, seed), whole, `seed ${seed}`);
    });
  }
});

/** Settings the encoder tests run under: peer capacity, peer blocked streams, delay. */
interface EncoderCase {
  capacity: number;
  blocked: number;
  /** Deliver encoder-stream data and decoder feedback only every `lag` sections (1 = at once). */
  lag: number;
}

const ENCODER_CASES: readonly EncoderCase[] = [
  { capacity: 0, blocked: 0, lag: 1 },
  { capacity: 256, blocked: 0, lag: 1 },
  { capacity: 4096, blocked: 0, lag: 1 },
  { capacity: 4096, blocked: 100, lag: 1 },
  { capacity: 4096, blocked: 100, lag: 5 },
  { capacity: 512, blocked: 2, lag: 7 },
  { capacity: 1024, blocked: 0, lag: 3 },
];

/**
 * Encodes the QIF's sets with our encoder and decodes them with our decoder, delivering the
 * encoder stream and the decoder's feedback late by `lag` sections (so sections arrive before
 * the entries they use); checks the encoder's limits after every section.
 */
function roundTrip(sets: string[][], c: EncoderCase, split: number | undefined): string[][] {
  const encoder = new QpackEncoder({ peerMaxTableCapacity: c.capacity, peerMaxBlockedStreams: c.blocked });
  const decoder = new QpackDecoder({ maxTableCapacity: c.capacity, maxBlockedStreams: c.blocked });
  const random = split === undefined ? undefined : seededRandom(split);
  const decoded: QpackFieldSection[] = [];
  let encoderBytes: Buffer[] = [];
  const flush = (): void => {
    for (const b of encoderBytes) {
      const parts = random === undefined ? [b] : pieces(b, random);
      for (const p of parts) decoded.push(...decoder.receiveEncoderStream(p));
    }
    encoderBytes = [];
    const feedback = decoder.takeDecoderStreamBytes();
    const parts = random === undefined ? [feedback] : pieces(feedback, random);
    for (const p of parts) encoder.receiveDecoderStream(p);
  };
  sets.forEach((fields, i) => {
    const streamId = 4 * i;
    const section = encoder.encodeFieldSection(streamId, fields);
    encoderBytes.push(encoder.takeEncoderStreamBytes());
    assert.ok(encoder.table.size <= encoder.table.capacity, 'table size within capacity');
    assert.ok(encoder.table.capacity <= c.capacity, 'capacity within the peer maximum');
    assert.ok(encoder.blockingStreamCount <= c.blocked, 'blocked streams within the peer maximum');
    let s: QpackFieldSection | undefined;
    if (random === undefined) s = decoder.decodeFieldSection(streamId, section);
    else {
      for (const p of pieces(section, random)) decoder.receiveFieldSectionData(streamId, p);
      s = decoder.endFieldSection(streamId);
    }
    if (s !== undefined) decoded.push(s);
    if ((i + 1) % c.lag === 0) flush();
  });
  flush();
  assert.equal(decoder.blockedStreamCount, 0);
  assert.equal(decoder.table.insertCount, encoder.table.insertCount);
  assert.equal(decoder.table.size, encoder.table.size);
  decoded.sort((a, b) => a.streamId - b.streamId);
  return decoded.map((s) => s.fields);
}

test('encoder: every QIF round-trips through our decoder within the peer limits', async (t) => {
  if (!requireQpackVectors(t)) return;
  let encoded = 0;
  for (const name of qifNames()) {
    const sets = loadQif(name);
    for (const c of ENCODER_CASES) {
      await t.test(`${name} capacity ${c.capacity} blocked ${c.blocked} lag ${c.lag}`, () => {
        const got = roundTrip(sets, c, undefined);
        assert.equal(got.length, sets.length);
        for (let i = 0; i < got.length; i++) assert.deepEqual(got[i], sets[i], `header set ${i + 1}`);
        encoded++;
      });
    }
  }
  t.diagnostic(`encoded and decoded back ${encoded} QIF/settings combinations`);
});

test('encoder: random splits of our own streams decode the same', async (t) => {
  if (!requireQpackVectors(t)) return;
  for (const name of ['netbsd', 'fb-req']) {
    const sets = loadQif(name).slice(0, 120);
    await t.test(name, () => {
      for (const seed of [7, 8]) {
        const got = roundTrip(sets, { capacity: 4096, blocked: 100, lag: 4 }, seed);
        assert.deepEqual(got, sets, `seed ${seed}`);
      }
    });
  }
});
