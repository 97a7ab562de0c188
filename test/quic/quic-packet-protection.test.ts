/**
 * Packet protection beyond the RFC 9001 Appendix A vectors: round trips with each AEAD, the
 * reserved-bit rule (RFC 9000 §17.2, §17.3.1), packets too short to sample (RFC 9001 §5.4.2),
 * and header protection that really hides the packet number bits.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { QuicTransportErrorCode as E, QuicError } from '../../src/quic/quic-error.js';
import {
  deriveQuicPacketKeys,
  type QuicAeadAlgorithm,
  quicInitialKeys,
} from '../../src/quic/quic-initial-secrets.js';
import {
  parseQuicPacketHeader,
  writeQuicLongHeader,
  writeQuicShortHeader,
} from '../../src/quic/quic-packet-header.js';
import { protectQuicPacket, unprotectQuicPacket } from '../../src/quic/quic-packet-protection.js';

const ALGORITHMS: QuicAeadAlgorithm[] = ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305'];

test('each AEAD protects and unprotects short and long header packets', () => {
  for (const algorithm of ALGORITHMS) {
    const keys = deriveQuicPacketKeys(randomBytes(algorithm === 'aes-256-gcm' ? 48 : 32), algorithm);
    assert.equal(keys.key.length, algorithm === 'aes-128-gcm' ? 16 : 32);
    for (const pnLength of [1, 2, 3, 4] as const) {
      const pn = 0x1234567 + pnLength;
      const payload = randomBytes(40);
      const header = writeQuicShortHeader({
        dcid: Uint8Array.of(1, 2, 3),
        packetNumber: pn,
        packetNumberLength: pnLength,
        keyPhase: true,
      });
      const packet = protectQuicPacket(keys, header, pn, payload);
      assert.notDeepEqual(
        packet.subarray(4),
        header.subarray(4),
        `${algorithm}: the packet number is masked`,
      );
      const opened = unprotectQuicPacket(keys, packet, 4, pn - 1);
      assert.equal(opened.packetNumber, pn, algorithm);
      assert.deepEqual(opened.payload, new Uint8Array(payload));
      assert.deepEqual(opened.header, header);
      assert.equal(opened.keyPhase, true);
    }
    const long = writeQuicLongHeader({
      type: 'handshake',
      dcid: Uint8Array.of(9),
      scid: Uint8Array.of(8),
      packetNumber: 3,
      packetNumberLength: 1,
      payloadLength: 20 + 16,
    });
    const packet = protectQuicPacket(keys, long, 3, new Uint8Array(20));
    const parsed = parseQuicPacketHeader(packet, 0, 0);
    assert.ok(parsed.type === 'handshake' && parsed.packetEnd === packet.length);
    assert.equal(unprotectQuicPacket(keys, packet, parsed.pnOffset, 2).packetNumber, 3);
  }
});

test('non-zero reserved bits in an authentic packet are a PROTOCOL_VIOLATION (RFC 9000 §17.2, §17.3.1)', () => {
  const { client } = quicInitialKeys(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  const long = writeQuicLongHeader({
    type: 'initial',
    dcid: Uint8Array.of(1),
    scid: Uint8Array.of(),
    packetNumber: 0,
    packetNumberLength: 1,
    payloadLength: 20 + 16,
  });
  const short = writeQuicShortHeader({ dcid: Uint8Array.of(), packetNumber: 0, packetNumberLength: 1 });
  for (const [header, bit] of [
    [long, 0x04],
    [long, 0x08],
    [short, 0x08],
    [short, 0x10],
  ] as const) {
    const withBit = header.slice();
    withBit[0] = withBit[0]! | bit;
    const packet = protectQuicPacket(client, withBit, 0, new Uint8Array(20));
    const pnOffset = header.length - 1;
    assert.throws(
      () => unprotectQuicPacket(client, packet, pnOffset, -1),
      (e: unknown) => e instanceof QuicError && e.errorCode === E.PROTOCOL_VIOLATION && e.isConnectionError,
      `bit 0x${bit.toString(16)}`,
    );
    assert.doesNotThrow(() =>
      unprotectQuicPacket(client, protectQuicPacket(client, header, 0, new Uint8Array(20)), pnOffset, -1),
    );
  }
});

test('a payload too short to sample is refused on both sides (RFC 9001 §5.4.2)', () => {
  const { client } = quicInitialKeys(Uint8Array.of(1));
  const header = writeQuicShortHeader({ dcid: Uint8Array.of(), packetNumber: 0, packetNumberLength: 1 });
  assert.throws(() => protectQuicPacket(client, header, 0, Uint8Array.of(1, 2)), RangeError);
  const packet = protectQuicPacket(client, header, 0, Uint8Array.of(1, 2, 3));
  assert.equal(packet.length, 1 + 1 + 3 + 16);
  assert.doesNotThrow(() => unprotectQuicPacket(client, packet, 1, -1));
  assert.throws(
    () => unprotectQuicPacket(client, packet.subarray(0, packet.length - 1), 1, -1),
    (e: unknown) => e instanceof QuicError && e.code === 'AVX_QUIC_MALFORMED_PACKET' && !e.isConnectionError,
  );
});
