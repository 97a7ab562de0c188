/**
 * QUIC transport parameters (RFC 9000 §18): round trips, defaults, and each validation rule.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuicError, QuicTransportErrorCode } from '../../src/quic/quic-error.js';
import {
  decodeQuicTransportParameters,
  defaultQuicTransportParameters,
  encodeQuicTransportParameters,
} from '../../src/quic/quic-transport-parameters.js';

const CID = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);

function isTpError(e: unknown): boolean {
  return e instanceof QuicError && e.errorCode === QuicTransportErrorCode.TRANSPORT_PARAMETER_ERROR;
}

test('server parameters round trip with every field', () => {
  const tp = {
    ...defaultQuicTransportParameters(),
    originalDestinationConnectionId: CID,
    initialSourceConnectionId: Uint8Array.from([9, 9]),
    statelessResetToken: new Uint8Array(16).fill(7),
    maxIdleTimeout: 30000,
    maxUdpPayloadSize: 1452,
    initialMaxData: 1 << 20,
    initialMaxStreamDataBidiLocal: 1000,
    initialMaxStreamDataBidiRemote: 2000,
    initialMaxStreamDataUni: 3000,
    initialMaxStreamsBidi: 100,
    initialMaxStreamsUni: 3,
    ackDelayExponent: 10,
    maxAckDelay: 40,
    disableActiveMigration: true,
    activeConnectionIdLimit: 4,
  };
  assert.deepEqual(decodeQuicTransportParameters(encodeQuicTransportParameters(tp), 'server'), tp);
});

test('absent parameters take the RFC 9000 §18.2 defaults; unknown ids are ignored', () => {
  // initial_source_connection_id (0x0f) of 1 byte, then a greased id 31*3+27 = 120 with 2 bytes.
  const bytes = Uint8Array.from([0x0f, 0x01, 0xaa, 0x40, 120, 0x02, 0xde, 0xad]);
  const tp = decodeQuicTransportParameters(bytes, 'client');
  assert.equal(tp.maxUdpPayloadSize, 65527);
  assert.equal(tp.ackDelayExponent, 3);
  assert.equal(tp.maxAckDelay, 25);
  assert.equal(tp.activeConnectionIdLimit, 2);
  assert.equal(tp.initialMaxData, 0);
  assert.deepEqual(tp.initialSourceConnectionId, Uint8Array.from([0xaa]));
});

test('validation rules of §7.3, §7.4 and §18.2', () => {
  const base = [0x0f, 0x01, 0xaa];
  const bad: [string, number[], 'client' | 'server'][] = [
    ['repeated parameter', [...base, 0x04, 0x01, 0x05, 0x04, 0x01, 0x06], 'client'],
    ['ack_delay_exponent above 20', [...base, 0x0a, 0x01, 21], 'client'],
    ['max_ack_delay of 2^14', [...base, 0x0b, 0x04, 0x80, 0x00, 0x40, 0x00], 'client'],
    ['max_udp_payload_size below 1200', [...base, 0x03, 0x02, 0x44, 0xaf], 'client'],
    ['active_connection_id_limit below 2', [...base, 0x0e, 0x01, 0x01], 'client'],
    ['client sends original_destination_connection_id', [...base, 0x00, 0x01, 0x01], 'client'],
    ['client sends stateless_reset_token', [...base, 0x02, 0x10, ...new Array(16).fill(0)], 'client'],
    [
      'stateless_reset_token of 15 bytes',
      [...base, 0x00, 0x01, 0x01, 0x02, 0x0f, ...new Array(15).fill(0)],
      'server',
    ],
    ['missing initial_source_connection_id', [0x04, 0x01, 0x05], 'client'],
    ['server without original_destination_connection_id', base, 'server'],
    ['value that is not one varint', [...base, 0x04, 0x02, 0x05, 0x00], 'client'],
    ['truncated', [...base, 0x04, 0x05, 0x01], 'client'],
    ['disable_active_migration with a value', [...base, 0x0c, 0x01, 0x00], 'client'],
    [
      'initial_max_streams_bidi above 2^60',
      [...base, 0x08, 0x08, 0xdf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      'client',
    ],
  ];
  for (const [name, bytes, sender] of bad) {
    assert.throws(() => decodeQuicTransportParameters(Uint8Array.from(bytes), sender), isTpError, name);
  }
  assert.doesNotThrow(() => decodeQuicTransportParameters(Uint8Array.from(base), 'client'));
});

test('the encoder refuses values the decoder would refuse', () => {
  assert.throws(
    () => encodeQuicTransportParameters({ ...defaultQuicTransportParameters(), ackDelayExponent: 21 }),
    isTpError,
  );
});
