/**
 * QUIC packet headers (RFC 9000 §17): packet number truncation and recovery with the
 * Appendix A.2 / A.3 examples, long and short headers written and read back, Version
 * Negotiation, coalesced packets, and headers that must be dropped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuicError } from '../../src/quic/quic-error.js';
import {
  decodeQuicPacketNumber,
  parseQuicPacketHeader,
  QUIC_VERSION_1,
  quicPacketNumberLength,
  writeQuicLongHeader,
  writeQuicShortHeader,
  writeQuicVersionNegotiation,
} from '../../src/quic/quic-packet-header.js';
import { seededRandom } from '../seeded-random.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const isDrop = (e: unknown) =>
  e instanceof QuicError && e.code === 'AVX_QUIC_MALFORMED_PACKET' && !e.isConnectionError;

test('RFC 9000 A.2: 0xac5c02 after ack of 0xabe8b3 takes 2 bytes, 0xace8fe takes 3', () => {
  assert.equal(quicPacketNumberLength(0xac5c02, 0xabe8b3), 2);
  assert.equal(quicPacketNumberLength(0xace8fe, 0xabe8b3), 3);
  assert.equal(quicPacketNumberLength(0, -1), 1, 'first packet, nothing acknowledged');
  assert.equal(quicPacketNumberLength(128, 0), 1, '128 in flight fits 8 bits (2^7)');
  assert.equal(quicPacketNumberLength(129, 0), 2, '129 in flight needs 9 bits');
  assert.equal(quicPacketNumberLength(2 ** 31, 0), 4);
  assert.throws(() => quicPacketNumberLength(2 ** 31 + 1, 0), RangeError);
  assert.throws(() => quicPacketNumberLength(5, 5), RangeError, 'not above the largest acknowledged');
});

test('RFC 9000 A.3: truncated 0x9b32 after 0xa82f30ea decodes to 0xa82f9b32; window edges', () => {
  assert.equal(decodeQuicPacketNumber(0xa82f30ea, 0x9b32, 2), 0xa82f9b32);
  assert.equal(decodeQuicPacketNumber(-1, 0, 1), 0);
  assert.equal(decodeQuicPacketNumber(0xff, 0x00, 1), 0x100, 'wraps forward');
  assert.equal(decodeQuicPacketNumber(0x100, 0xff, 1), 0xff, 'a late packet from just behind');
  assert.equal(decodeQuicPacketNumber(2 ** 40 + 5, 3, 4), 2 ** 40 + 3, 'above 32 bits (no bitwise overflow)');
  // Round trip: any packet number within the window chosen by quicPacketNumberLength comes back.
  const random = seededRandom(17);
  for (let i = 0; i < 2000; i++) {
    const largestAcked = Math.floor(random() * 2 ** 40);
    const pn = largestAcked + 1 + Math.floor(random() * 2 ** Math.floor(random() * 31));
    const length = quicPacketNumberLength(pn, largestAcked);
    const truncated = pn % 2 ** (8 * length);
    assert.equal(
      decodeQuicPacketNumber(largestAcked, truncated, length),
      pn,
      `pn ${pn} acked ${largestAcked}`,
    );
  }
});

test('long headers of each type write and read back (version, cids, token, Length, pn offset)', () => {
  for (const type of ['initial', '0rtt', 'handshake'] as const) {
    const token = type === 'initial' ? hex('aabbcc') : new Uint8Array(0);
    const header = writeQuicLongHeader({
      type,
      dcid: hex('0102030405060708090a0b0c0d0e0f1011121314'),
      scid: hex('a1a2'),
      token,
      packetNumber: 0x1234,
      packetNumberLength: 2,
      payloadLength: 30,
    });
    const datagram = new Uint8Array(header.length + 30 + 5);
    datagram.set(header);
    const parsed = parseQuicPacketHeader(datagram, 0, 0);
    assert.equal(parsed.type, type);
    if (parsed.type !== type) continue;
    assert.equal(parsed.version, QUIC_VERSION_1);
    assert.equal(parsed.dcid.length, 20);
    assert.deepEqual(parsed.scid, hex('a1a2'));
    assert.deepEqual(parsed.token, token);
    assert.equal(parsed.pnOffset, header.length - 2);
    assert.equal(parsed.packetEnd, header.length + 30, 'Length covers pn + payload; 5 trailing bytes remain');
    assert.deepEqual(datagram.subarray(parsed.pnOffset, parsed.pnOffset + 2), hex('1234'));
  }
});

test("coalesced packets: the second starts at the first one's packetEnd", () => {
  const a = writeQuicLongHeader({
    type: 'initial',
    dcid: hex('01'),
    scid: hex(''),
    packetNumber: 0,
    packetNumberLength: 1,
    payloadLength: 20,
  });
  const b = writeQuicLongHeader({
    type: 'handshake',
    dcid: hex('01'),
    scid: hex(''),
    packetNumber: 0,
    packetNumberLength: 1,
    payloadLength: 20,
  });
  const datagram = new Uint8Array(a.length + 20 + b.length + 20);
  datagram.set(a, 0);
  datagram.set(b, a.length + 20);
  const first = parseQuicPacketHeader(datagram, 0, 0);
  assert.equal(first.type, 'initial');
  const second = parseQuicPacketHeader(datagram, first.packetEnd, 0);
  assert.equal(second.type, 'handshake');
  assert.equal(second.packetEnd, datagram.length);
});

test('short header: spin bit, key phase, dcid of the known length', () => {
  const header = writeQuicShortHeader({
    dcid: hex('deadbeef'),
    packetNumber: 7,
    packetNumberLength: 1,
    spin: true,
    keyPhase: true,
  });
  assert.equal(header[0], 0x40 | 0x20 | 0x04);
  const parsed = parseQuicPacketHeader(header, 0, 4);
  assert.ok(parsed.type === '1rtt');
  assert.equal(parsed.spin, true);
  assert.deepEqual(parsed.dcid, hex('deadbeef'));
  assert.equal(parsed.pnOffset, 5);
});

test('Version Negotiation and unknown versions are read by the invariants only', () => {
  const vn = writeQuicVersionNegotiation({
    dcid: hex('0a0b'),
    scid: hex('0c'),
    versions: [1, 0x6b3343cf, 0x0a0a0a0a],
  });
  assert.equal(vn[0]! & 0x80, 0x80);
  const parsed = parseQuicPacketHeader(vn, 0, 0);
  assert.ok(parsed.type === 'version_negotiation');
  assert.deepEqual(parsed.versions, [1, 0x6b3343cf, 0x0a0a0a0a]);
  assert.deepEqual(parsed.dcid, hex('0a0b'));
  const bad = parseQuicPacketHeader.bind(null, vn.subarray(0, vn.length - 1), 0, 0);
  assert.throws(bad, isDrop, 'a version list that is not a multiple of 4 bytes');
  // A version we do not speak, with a 21-byte connection id (allowed by RFC 8999).
  const unknown = hex(`c0ff00001d 15 ${'11'.repeat(21)} 00 0000`);
  const u = parseQuicPacketHeader(unknown, 0, 0);
  assert.ok(u.type === 'unknown_version');
  assert.equal(u.version, 0xff00001d);
  assert.equal(u.dcid.length, 21);
});

test('headers that must be dropped: cut short, zero fixed bit, v1 cid over 20, Length or token past the end', () => {
  const good = writeQuicLongHeader({
    type: 'initial',
    dcid: hex('01'),
    scid: hex('02'),
    token: hex('ff'),
    packetNumber: 0,
    packetNumberLength: 1,
    payloadLength: 20,
  });
  const datagram = new Uint8Array(good.length + 20);
  datagram.set(good);
  assert.doesNotThrow(() => parseQuicPacketHeader(datagram, 0, 0));
  for (let cut = 0; cut < good.length - 1; cut++) {
    assert.throws(() => parseQuicPacketHeader(datagram.subarray(0, cut), 0, 0), isDrop, `cut at ${cut}`);
  }
  assert.throws(
    () => parseQuicPacketHeader(datagram.subarray(0, datagram.length - 1), 0, 0),
    isDrop,
    'Length past the end',
  );
  const noFixed = datagram.slice();
  noFixed[0] = noFixed[0]! & ~0x40;
  assert.throws(() => parseQuicPacketHeader(noFixed, 0, 0), isDrop);
  assert.throws(
    () => parseQuicPacketHeader(hex(`c000000001 15 ${'11'.repeat(21)} 00 00 00`), 0, 0),
    isDrop,
    '21-byte v1 DCID',
  );
  assert.throws(
    () => parseQuicPacketHeader(hex('c00000000100000541'), 0, 0),
    isDrop,
    'token length past the end',
  );
  assert.throws(() => parseQuicPacketHeader(hex('0001'), 0, 0), isDrop, 'short header with zero fixed bit');
  assert.throws(() => parseQuicPacketHeader(hex('4001'), 0, 8), isDrop, 'short header shorter than our cid');
  assert.throws(() => parseQuicPacketHeader(hex('f000000001000001'), 0, 0), isDrop, 'Retry without a tag');
});

test('random datagrams never throw anything but a drop error', () => {
  const random = seededRandom(99);
  for (let i = 0; i < 20000; i++) {
    const bytes = new Uint8Array(Math.floor(random() * 64));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(random() * 256);
    if (bytes.length > 0 && random() < 0.5) {
      bytes[0] = bytes[0]! | 0xc0;
      if (bytes.length > 5) bytes.set([0, 0, 0, 1], 1);
    }
    try {
      const parsed = parseQuicPacketHeader(bytes, 0, Math.floor(random() * 21));
      assert.ok(parsed.packetEnd <= bytes.length);
    } catch (e) {
      assert.ok(isDrop(e), String(e));
    }
  }
});
