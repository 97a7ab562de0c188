/**
 * The QUIC frame codec (RFC 9000 §19): every frame type written and read back, wire bytes of
 * a few by hand, the malformed frames of §19 with their transport error codes, the packet types
 * each frame may appear in (§12.4), and random and mutated payloads that may only ever end in a
 * QuicError.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuicTransportErrorCode as E, QuicError } from '../../src/quic/quic-error.js';
import { parseQuicFrame, parseQuicFrames } from '../../src/quic/quic-frame-parser.js';
import { isFrameAllowedIn, type QuicFrame } from '../../src/quic/quic-frame-types.js';
import { encodeQuicFrames, quicFrameSize, writeQuicFrame } from '../../src/quic/quic-frame-writer.js';
import { seededRandom } from '../seeded-random.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

function errorWith(errorCode: number, code?: string) {
  return (e: unknown) =>
    e instanceof QuicError &&
    e.errorCode === errorCode &&
    e.isConnectionError &&
    (code === undefined || e.code === code);
}

const EVERY_FRAME: QuicFrame[] = [
  { type: 'padding', length: 3 },
  { type: 'ping' },
  { type: 'ack', ackDelay: 25, ranges: [{ largest: 1000, smallest: 990 }] },
  {
    type: 'ack',
    ackDelay: 0,
    ranges: [
      { largest: 100, smallest: 90 },
      { largest: 88, smallest: 88 },
      { largest: 50, smallest: 0 },
    ],
    ecn: { ect0: 7, ect1: 0, ce: 2 ** 40 },
  },
  { type: 'reset_stream', streamId: 4, errorCode: (1n << 62n) - 1n, finalSize: 123456 },
  { type: 'stop_sending', streamId: 3, errorCode: 0x10cn },
  { type: 'crypto', offset: 70000, data: bytes(300, 0xab) },
  { type: 'new_token', token: hex('0102') },
  { type: 'max_data', maximumData: 2 ** 50 },
  { type: 'max_stream_data', streamId: 8, maximumStreamData: 65536 },
  { type: 'max_streams', bidirectional: true, maximumStreams: 100 },
  { type: 'max_streams', bidirectional: false, maximumStreams: 3 },
  { type: 'data_blocked', maximumData: 9 },
  { type: 'stream_data_blocked', streamId: 12, maximumStreamData: 1 << 20 },
  { type: 'streams_blocked', bidirectional: true, maximumStreams: 0 },
  { type: 'streams_blocked', bidirectional: false, maximumStreams: 2 ** 40 },
  {
    type: 'new_connection_id',
    sequenceNumber: 5,
    retirePriorTo: 2,
    connectionId: bytes(20, 7),
    statelessResetToken: bytes(16, 9),
  },
  { type: 'retire_connection_id', sequenceNumber: 2 },
  { type: 'path_challenge', data: hex('0001020304050607') },
  { type: 'path_response', data: hex('0706050403020100') },
  {
    type: 'connection_close',
    application: false,
    errorCode: 0x07n,
    frameType: 0x08n,
    reason: Uint8Array.from(Buffer.from('bad frame')),
  },
  {
    type: 'connection_close',
    application: true,
    errorCode: 0x1f21n,
    frameType: 0n,
    reason: new Uint8Array(0),
  },
  { type: 'handshake_done' },
];

/** Frames as the parser returns them (it fills in defaults the writer allows to be left out). */
function normalised(frame: QuicFrame): QuicFrame {
  return frame.type === 'stream' ? { ...frame, hasLength: frame.hasLength !== false } : frame;
}

test('every frame type writes and reads back, alone and all in one payload', () => {
  for (const frame of EVERY_FRAME) {
    const wire = encodeQuicFrames([frame]);
    assert.equal(wire.length, quicFrameSize(frame), frame.type);
    assert.deepEqual(parseQuicFrames(wire), [frame], frame.type);
  }
  const all = encodeQuicFrames(EVERY_FRAME);
  assert.deepEqual(parseQuicFrames(all), EVERY_FRAME);
});

test('all 8 STREAM types (OFF/LEN/FIN) write and read back', () => {
  const seen = new Set<number>();
  for (const offset of [0, 77]) {
    for (const hasLength of [true, false]) {
      for (const fin of [false, true]) {
        const frame: QuicFrame = {
          type: 'stream',
          streamId: 0x3fff,
          offset,
          fin,
          data: hex('68656c6c6f'),
          hasLength,
        };
        const wire = encodeQuicFrames([frame]);
        seen.add(wire[0]!);
        assert.equal(wire[0], 0x08 | (offset > 0 ? 4 : 0) | (hasLength ? 2 : 0) | (fin ? 1 : 0));
        assert.deepEqual(parseQuicFrames(wire), [normalised(frame)]);
      }
    }
  }
  assert.equal(seen.size, 8);
  // Without LEN the data runs to the end of the packet, so a following frame is read as data.
  const noLength = encodeQuicFrames([
    { type: 'stream', streamId: 1, offset: 0, fin: false, data: hex('aa'), hasLength: false },
    { type: 'ping' },
  ]);
  const [frame] = parseQuicFrames(noLength);
  assert.ok(frame?.type === 'stream');
  assert.deepEqual(frame.data, hex('aa01'));
});

test('wire bytes by hand: STREAM, ACK with ranges and ECN, CONNECTION_CLOSE, PADDING runs', () => {
  assert.deepEqual(
    encodeQuicFrames([{ type: 'stream', streamId: 4, offset: 5, fin: true, data: hex('6869') }]),
    hex('0f 04 05 02 6869'),
  );
  // Largest 100, delay 0, 2 more ranges, first range 10 (100..90); gap 0 -> 88..88; gap 36 -> 50..0.
  assert.deepEqual(
    encodeQuicFrames([EVERY_FRAME[3]!]).subarray(0, 11),
    hex('03 4064 00 02 0a 00 00 24 32 07'),
  );
  assert.deepEqual(
    encodeQuicFrames([
      {
        type: 'connection_close',
        application: false,
        errorCode: 0x0an,
        frameType: 0x06n,
        reason: hex('6f6b'),
      },
    ]),
    hex('1c 0a 06 02 6f6b'),
  );
  assert.deepEqual(parseQuicFrames(hex('000000 01 0000')), [
    { type: 'padding', length: 3 },
    { type: 'ping' },
    { type: 'padding', length: 2 },
  ]);
  assert.deepEqual(parseQuicFrame(hex('01 1e'), 1), { frame: { type: 'handshake_done' }, end: 2 });
});

test('FRAME_ENCODING_ERROR: every frame cut short at every byte', () => {
  for (const frame of EVERY_FRAME) {
    if (frame.type === 'padding' || frame.type === 'ping' || frame.type === 'handshake_done') continue;
    const wire = encodeQuicFrames([frame]);
    for (let cut = 1; cut < wire.length; cut++) {
      assert.throws(
        () => parseQuicFrames(wire.subarray(0, cut)),
        errorWith(E.FRAME_ENCODING_ERROR, 'AVX_QUIC_FRAME_ENCODING'),
        `${frame.type} cut at ${cut}`,
      );
    }
  }
});

test('FRAME_ENCODING_ERROR: unknown types, negative ACK ranges, empty NEW_TOKEN, bad cid length, 2^60 streams, 2^62 offsets', () => {
  const encoding = errorWith(E.FRAME_ENCODING_ERROR);
  const cases: [string, string][] = [
    ['unknown type 0x1f', '1f'],
    ['unknown type 0x30 (DATAGRAM is not ours)', '30'],
    ['unknown two-byte type 0x4040', '4040'],
    ['ACK first range below zero', '02 05 00 00 06'],
    ['ACK gap below zero', '02 05 00 01 01 03 00'],
    ['ACK range length below zero', '02 05 00 01 00 00 04'],
    ['ACK range count larger than the frame', '02 05 00 3f 00'],
    ['ACK range count 2^62-1', '02 05 00 ffffffffffffffff 00'],
    ['empty NEW_TOKEN', '07 00'],
    ['NEW_TOKEN length past the end', '07 05 0102'],
    ['CRYPTO length past the end', '06 00 05 0102'],
    ['STREAM length past the end', '0a 00 05 0102'],
    ['NEW_CONNECTION_ID with a 0-byte cid', `18 01 00 00 ${'00'.repeat(16)}`],
    ['NEW_CONNECTION_ID with a 21-byte cid', `18 01 00 15 ${'00'.repeat(21 + 16)}`],
    ['NEW_CONNECTION_ID Retire Prior To above Sequence Number', `18 01 02 01 aa ${'00'.repeat(16)}`],
    ['MAX_STREAMS above 2^60', '12 d000000000000001'],
    ['STREAMS_BLOCKED above 2^60', '17 d000000000000001'],
    ['CONNECTION_CLOSE reason past the end', '1c 00 00 04 6869'],
  ];
  for (const [name, wire] of cases) assert.throws(() => parseQuicFrames(hex(wire)), encoding, name);
  assert.deepEqual(
    parseQuicFrames(hex('12 d000000000000000')),
    [{ type: 'max_streams', bidirectional: true, maximumStreams: Number.MAX_SAFE_INTEGER }],
    'exactly 2^60 is allowed (saturated to a safe number)',
  );
});

test('values beyond 2^53 - 1 raise the error the connection would raise, or saturate for limits', () => {
  const big = 'dfffffffffffffff'; // 2^61 - 1
  assert.throws(
    () => parseQuicFrames(hex(`0e 00 ${big} 01 00`)),
    errorWith(E.FLOW_CONTROL_ERROR),
    'STREAM offset',
  );
  assert.throws(() => parseQuicFrames(hex(`08 ${big}`)), errorWith(E.STREAM_LIMIT_ERROR), 'stream id');
  assert.throws(
    () => parseQuicFrames(hex(`06 ${big} 00`)),
    errorWith(E.CRYPTO_BUFFER_EXCEEDED),
    'CRYPTO offset',
  );
  assert.throws(
    () => parseQuicFrames(hex(`02 ${big} 00 00 00`)),
    errorWith(E.PROTOCOL_VIOLATION),
    'ACK of an unsent packet',
  );
  assert.throws(
    () => parseQuicFrames(hex(`19 ${big}`)),
    errorWith(E.PROTOCOL_VIOLATION),
    'RETIRE_CONNECTION_ID',
  );
  assert.deepEqual(parseQuicFrames(hex('10 ffffffffffffffff')), [
    { type: 'max_data', maximumData: Number.MAX_SAFE_INTEGER },
  ]);
  const [close] = parseQuicFrames(hex('1d ffffffffffffffff 00'));
  assert.ok(
    close?.type === 'connection_close' && close.errorCode === (1n << 62n) - 1n,
    'error codes keep all 62 bits',
  );
});

test('PROTOCOL_VIOLATION: longer frame type encodings, empty payloads, frames in the wrong packet type (§12.4)', () => {
  const violation = errorWith(E.PROTOCOL_VIOLATION, 'AVX_QUIC_PROTOCOL_VIOLATION');
  assert.throws(() => parseQuicFrames(hex('4001')), violation, 'PING as a two-byte varint');
  assert.throws(() => parseQuicFrames(hex('8000001e')), violation, 'HANDSHAKE_DONE in four bytes');
  assert.throws(() => parseQuicFrames(new Uint8Array(0)), violation, 'no frames');
  const wrong: [string, QuicFrame][] = [
    ['initial', { type: 'stream', streamId: 0, offset: 0, fin: false, data: hex('00') }],
    ['handshake', { type: 'handshake_done' }],
    ['0rtt', { type: 'ack', ackDelay: 0, ranges: [{ largest: 0, smallest: 0 }] }],
    ['0rtt', { type: 'crypto', offset: 0, data: hex('00') }],
    ['0rtt', { type: 'new_token', token: hex('00') }],
    ['0rtt', { type: 'path_response', data: bytes(8, 0) }],
    [
      'initial',
      { type: 'connection_close', application: true, errorCode: 0n, frameType: 0n, reason: hex('') },
    ],
  ];
  for (const [packetType, frame] of wrong) {
    const wire = encodeQuicFrames([frame]);
    assert.throws(
      () => parseQuicFrames(wire, packetType as 'initial'),
      violation,
      `${frame.type} in ${packetType}`,
    );
    assert.doesNotThrow(() => parseQuicFrames(wire, '1rtt'), `${frame.type} in 1rtt`);
  }
  assert.doesNotThrow(() =>
    parseQuicFrames(
      encodeQuicFrames([
        { type: 'connection_close', application: false, errorCode: 0n, frameType: 0n, reason: hex('') },
      ]),
      'handshake',
    ),
  );
  assert.throws(
    () => parseQuicFrames(Uint8Array.of(0x1f), 'initial'),
    errorWith(E.FRAME_ENCODING_ERROR),
    'unknown stays unknown',
  );
  assert.equal(isFrameAllowedIn(0x1d, 'initial'), false);
  assert.equal(isFrameAllowedIn(0x1c, 'initial'), true);
  assert.equal(isFrameAllowedIn(0x02, '0rtt'), false);
  assert.equal(isFrameAllowedIn(0x04, '0rtt'), true);
  assert.equal(isFrameAllowedIn(0x1f, '1rtt'), false);
});

test('the writer refuses frames that break their own rules and buffers too short', () => {
  const bad: QuicFrame[] = [
    { type: 'new_token', token: new Uint8Array(0) },
    {
      type: 'new_connection_id',
      sequenceNumber: 1,
      retirePriorTo: 0,
      connectionId: bytes(21, 0),
      statelessResetToken: bytes(16, 0),
    },
    {
      type: 'new_connection_id',
      sequenceNumber: 1,
      retirePriorTo: 2,
      connectionId: bytes(4, 0),
      statelessResetToken: bytes(16, 0),
    },
    { type: 'path_challenge', data: bytes(7, 0) },
    { type: 'ack', ackDelay: 0, ranges: [] },
    {
      type: 'ack',
      ackDelay: 0,
      ranges: [
        { largest: 5, smallest: 3 },
        { largest: 2, smallest: 0 },
      ],
    },
    { type: 'ack', ackDelay: 0, ranges: [{ largest: 5, smallest: 6 }] },
    { type: 'max_streams', bidirectional: true, maximumStreams: 2 ** 60 + 2 ** 10 },
    { type: 'reset_stream', streamId: 0, errorCode: 1n << 62n, finalSize: 0 },
  ];
  for (const frame of bad)
    assert.throws(
      () => encodeQuicFrames([frame]),
      RangeError,
      JSON.stringify(frame, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
    );
  assert.throws(
    () => writeQuicFrame(new Uint8Array(3), 0, { type: 'max_data', maximumData: 1 << 20 }),
    RangeError,
  );
  assert.throws(
    () => writeQuicFrame(new Uint8Array(8), 0, { type: 'crypto', offset: 0, data: bytes(8, 1) }),
    RangeError,
  );
});

/** The transport errors the frame parser raises (RFC 9000 §19, §20.1). */
const FUZZ_ERROR_CODES = new Set<number>([
  E.FRAME_ENCODING_ERROR,
  E.PROTOCOL_VIOLATION,
  E.FLOW_CONTROL_ERROR,
  E.STREAM_LIMIT_ERROR,
  E.CRYPTO_BUFFER_EXCEEDED,
]);

function checkOnlyTypedErrors(payload: Uint8Array): void {
  try {
    const frames = parseQuicFrames(payload);
    // Whatever parses must write back to a payload that parses to the same frames.
    assert.deepEqual(parseQuicFrames(encodeQuicFrames(frames)), frames);
  } catch (e) {
    if (!(e instanceof QuicError) || !e.isConnectionError) throw e;
    assert.ok(FUZZ_ERROR_CODES.has(e.errorCode), e.message);
  }
}

test('fuzz: random payloads only ever parse or throw a QuicError connection error', () => {
  const random = seededRandom(0x9000);
  const started = Date.now();
  for (let i = 0; i < 50000; i++) {
    const payload = new Uint8Array(1 + Math.floor(random() * 48));
    for (let j = 0; j < payload.length; j++) {
      // Bias towards small bytes so that known frame types come up often.
      payload[j] = random() < 0.5 ? Math.floor(random() * 0x20) : Math.floor(random() * 256);
    }
    checkOnlyTypedErrors(payload);
  }
  assert.ok(Date.now() - started < 20000, 'no slow paths');
});

test('fuzz: valid payloads with bytes flipped, inserted or dropped', () => {
  const random = seededRandom(0x9001);
  const base = encodeQuicFrames(EVERY_FRAME.filter((f) => f.type !== 'padding'));
  for (let i = 0; i < 20000; i++) {
    let payload = base.slice();
    const edits = 1 + Math.floor(random() * 4);
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(random() * payload.length);
      const op = random();
      if (op < 0.6) payload[at] = Math.floor(random() * 256);
      else if (op < 0.8)
        payload = Uint8Array.from([
          ...payload.subarray(0, at),
          Math.floor(random() * 256),
          ...payload.subarray(at),
        ]);
      else payload = Uint8Array.from([...payload.subarray(0, at), ...payload.subarray(at + 1)]);
    }
    if (payload.length > 0) checkOnlyTypedErrors(payload);
  }
});
