/**
 * HTTP/3 SETTINGS tests (RFC 9114 §7.2.4): round trips, defaults (§7.2.4.2), unknown and
 * greasing identifiers ignored, HTTP/2 identifiers and duplicates H3_SETTINGS_ERROR
 * (§7.2.4.1), truncated pairs H3_FRAME_ERROR (§7.1).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3Error, H3ErrorCode } from '../../src/h3/h3-error.js';
import { decodeSettingsPayload, defaultH3Settings, encodeSettingsPayload } from '../../src/h3/h3-settings.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const failsWith = (payload: Buffer, code: number, why: string) =>
  assert.throws(
    () => decodeSettingsPayload(payload),
    (err: unknown) => err instanceof H3Error && err.errorCode === code && err.isConnectionError,
    why,
  );

test('SETTINGS round trip and defaults (RFC 9114 §7.2.4.1, §7.2.4.2)', () => {
  const bytes = encodeSettingsPayload(
    {
      qpackMaxTableCapacity: 220,
      maxFieldSectionSize: 16384,
      qpackBlockedStreams: 100,
      enableConnectProtocol: true,
    },
    [[0x21, 7]],
  );
  assert.deepEqual(bytes, hex('01 40dc 06 80004000 07 4064 08 01 21 07'));
  const s = decodeSettingsPayload(bytes);
  assert.equal(s.qpackMaxTableCapacity, 220);
  assert.equal(s.maxFieldSectionSize, 16384);
  assert.equal(s.qpackBlockedStreams, 100);
  assert.equal(s.enableConnectProtocol, true);
  assert.deepEqual(s.unknown, [[0x21, 7]]);
  assert.deepEqual(decodeSettingsPayload(hex('')), defaultH3Settings());
  assert.equal(defaultH3Settings().maxFieldSectionSize, Number.POSITIVE_INFINITY);
  assert.equal(defaultH3Settings().qpackMaxTableCapacity, 0);
  // A value above 2^53 - 1 (here 2^62 - 1, "unlimited") reads as the largest safe integer.
  assert.equal(
    decodeSettingsPayload(hex('06 ffffffffffffffff')).maxFieldSectionSize,
    Number.MAX_SAFE_INTEGER,
  );
});

test('SETTINGS errors (RFC 9114 §7.2.4.1, §7.1; RFC 9220 §3)', () => {
  for (const id of [0x00, 0x02, 0x03, 0x04, 0x05]) {
    failsWith(Buffer.from([id, 0]), H3ErrorCode.H3_SETTINGS_ERROR, `HTTP/2 setting 0x${id.toString(16)}`);
  }
  failsWith(hex('01 00 01 00'), H3ErrorCode.H3_SETTINGS_ERROR, 'duplicate identifier');
  failsWith(hex('21 00 21 01'), H3ErrorCode.H3_SETTINGS_ERROR, 'duplicate unknown identifier');
  failsWith(hex('08 02'), H3ErrorCode.H3_SETTINGS_ERROR, 'ENABLE_CONNECT_PROTOCOL of 2');
  failsWith(hex('01'), H3ErrorCode.H3_FRAME_ERROR, 'identifier without value');
  failsWith(hex('01 40'), H3ErrorCode.H3_FRAME_ERROR, 'truncated value');
  failsWith(hex('40'), H3ErrorCode.H3_FRAME_ERROR, 'truncated identifier');
});
