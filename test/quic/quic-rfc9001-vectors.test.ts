/**
 * RFC 9001 Appendix A sample packet protection, byte for byte: the Initial keys (A.1), the
 * client Initial built from its CRYPTO frame and protected (A.2), the server Initial (A.3), the
 * Retry integrity tag (A.4) and a ChaCha20-Poly1305 short header packet (A.5).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QuicError } from '../../src/quic/quic-error.js';
import { parseQuicFrames } from '../../src/quic/quic-frame-parser.js';
import { encodeQuicFrames } from '../../src/quic/quic-frame-writer.js';
import {
  deriveQuicPacketKeys,
  nextQuicSecret,
  type QuicPacketKeys,
  quicInitialKeys,
  quicInitialSecrets,
} from '../../src/quic/quic-initial-secrets.js';
import {
  parseQuicPacketHeader,
  writeQuicLongHeader,
  writeQuicShortHeader,
} from '../../src/quic/quic-packet-header.js';
import {
  encodeQuicRetry,
  protectQuicPacket,
  quicHeaderProtectionMask,
  quicNonce,
  quicRetryIntegrityTag,
  unprotectQuicPacket,
  verifyQuicRetryIntegrity,
} from '../../src/quic/quic-packet-protection.js';
import { hkdfExpandLabel } from '../../src/tls13/tls13-key-schedule.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const DCID = hex('8394c8f03e515708');

const A2_CRYPTO_FRAME = hex(`
  060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868
  04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578
  616d706c652e636f6dff01000100000a 00080006001d00170018001000070005
  04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba
  baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400
  0d0010000e0403050306030203080408 050806002d00020101001c0002400100
  3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000
  75300901100f088394c8f03e51570806 048000ffff`);

const A2_PROTECTED = hex(
  'c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f3991c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df621230c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c2084dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f89937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c7468449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663ac69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe5896425c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ffef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009ddc324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77fcb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450efc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03adea2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e72404790a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f440591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca06948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f0940054da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd46840647e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241e221af44860018ab0856972e194cd934',
);

const A3_PAYLOAD = hex(`
  02000000000600405a020000560303ee fce7f7b37ba1d1632e96677825ddf739
  88cfc79825df566dc5430b9a045a1200 130100002e00330024001d00209d3c94
  0d89690b84d08a60993c144eca684d10 81287c834d5311bcf32bb9da1a002b00
  020304`);

const A3_PROTECTED = hex(`
  cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a
  5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3
  dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84
  022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4
  2158407dd074ee`);

test('RFC 9001 A.1: HKDF-Expand-Label labels, initial secret, client and server key/iv/hp', () => {
  const secrets = quicInitialSecrets(DCID);
  assert.equal(
    toHex(secrets.initialSecret),
    '7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44',
  );
  assert.equal(
    toHex(secrets.clientInitialSecret),
    'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea',
  );
  assert.equal(
    toHex(secrets.serverInitialSecret),
    '3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b',
  );
  const { client, server } = quicInitialKeys(DCID);
  assert.equal(toHex(client.key), '1f369613dd76d5467730efcbe3b1a22d');
  assert.equal(toHex(client.iv), 'fa044b2f42a3fd3b46fb255c');
  assert.equal(toHex(client.hp), '9f50449e04a0e810283a1e9933adedd2');
  assert.equal(toHex(server.key), 'cf3a5331653c364c88f0f379b6067e37');
  assert.equal(toHex(server.iv), '0ac1493ca1905853b0bba03e');
  assert.equal(toHex(server.hp), 'c206b8d9b9f0f37644430b490eeaa314');
});

test('RFC 9001 A.2: the client Initial, built from its CRYPTO frame and padded to 1162 bytes, protects to the RFC bytes', () => {
  const { client } = quicInitialKeys(DCID);
  const crypto = parseQuicFrames(A2_CRYPTO_FRAME, 'initial');
  assert.equal(crypto.length, 1);
  assert.equal(crypto[0]!.type, 'crypto');
  // "plus enough PADDING frames to make a 1162-byte payload"
  const payload = encodeQuicFrames([...crypto, { type: 'padding', length: 1162 - A2_CRYPTO_FRAME.length }]);
  assert.equal(payload.length, 1162);
  assert.deepEqual(payload.subarray(0, A2_CRYPTO_FRAME.length), A2_CRYPTO_FRAME);
  const header = writeQuicLongHeader({
    type: 'initial',
    dcid: DCID,
    scid: new Uint8Array(0),
    packetNumber: 2,
    packetNumberLength: 4,
    payloadLength: payload.length + 16,
  });
  assert.equal(toHex(header), 'c300000001088394c8f03e5157080000449e00000002');
  const sample = hex('d1b1c98dd7689fb8ec11d242b123dc9b');
  assert.equal(toHex(quicHeaderProtectionMask(client, sample)), '437b9aec36');
  const packet = protectQuicPacket(client, header, 2, payload);
  assert.equal(packet.length, 1200);
  assert.equal(toHex(packet.subarray(0, 22)), 'c000000001088394c8f03e5157080000449e7b9aec34');
  assert.equal(toHex(packet), toHex(A2_PROTECTED));
});

test('RFC 9001 A.2: the server unprotects the RFC client Initial back to its header and frames', () => {
  const { client } = quicInitialKeys(DCID);
  const parsed = parseQuicPacketHeader(A2_PROTECTED, 0, 8);
  assert.equal(parsed.type, 'initial');
  if (parsed.type !== 'initial') return;
  assert.deepEqual(parsed.dcid, DCID);
  assert.equal(parsed.scid.length, 0);
  assert.equal(parsed.token.length, 0);
  assert.equal(parsed.packetEnd, 1200);
  const opened = unprotectQuicPacket(client, A2_PROTECTED.subarray(0, parsed.packetEnd), parsed.pnOffset, -1);
  assert.equal(opened.packetNumber, 2);
  assert.equal(toHex(opened.header), 'c300000001088394c8f03e5157080000449e00000002');
  const frames = parseQuicFrames(opened.payload, 'initial');
  assert.deepEqual(
    frames.map((f) => f.type),
    ['crypto', 'padding'],
  );
  const crypto = frames[0]!;
  assert.ok(crypto.type === 'crypto' && crypto.offset === 0 && crypto.data.length === 241);
  assert.deepEqual(frames[1], { type: 'padding', length: 1162 - A2_CRYPTO_FRAME.length });
});

test('RFC 9001 A.2: a flipped ciphertext bit or the wrong keys fail authentication (drop, not close)', () => {
  const { client, server } = quicInitialKeys(DCID);
  const tampered = A2_PROTECTED.slice();
  tampered[600] = tampered[600]! ^ 1;
  for (const [keys, bytes] of [
    [client, tampered],
    [server, A2_PROTECTED],
  ] as const) {
    assert.throws(
      () => unprotectQuicPacket(keys, bytes, 18, -1),
      (e: unknown) => e instanceof QuicError && e.code === 'AVX_QUIC_DECRYPT_FAILED' && !e.isConnectionError,
    );
  }
});

test('RFC 9001 A.3: the server Initial (ACK + CRYPTO, 2-byte packet number 1) protects and unprotects', () => {
  const { server } = quicInitialKeys(DCID);
  const frames = parseQuicFrames(A3_PAYLOAD, 'initial');
  assert.deepEqual(
    frames.map((f) => f.type),
    ['ack', 'crypto'],
  );
  assert.deepEqual(frames[0], { type: 'ack', ackDelay: 0, ranges: [{ largest: 0, smallest: 0 }] });
  assert.deepEqual(encodeQuicFrames(frames), A3_PAYLOAD);
  const header = writeQuicLongHeader({
    type: 'initial',
    dcid: new Uint8Array(0),
    scid: hex('f067a5502a4262b5'),
    packetNumber: 1,
    packetNumberLength: 2,
    payloadLength: A3_PAYLOAD.length + 16,
  });
  assert.equal(toHex(header), 'c1000000010008f067a5502a4262b50040750001');
  assert.equal(
    toHex(quicHeaderProtectionMask(server, hex('2cd0991cd25b0aac406a5816b6394100'))),
    '2ec0d8356a',
  );
  const packet = protectQuicPacket(server, header, 1, A3_PAYLOAD);
  assert.equal(toHex(packet.subarray(0, header.length)), 'cf000000010008f067a5502a4262b5004075c0d9');
  assert.equal(toHex(packet), toHex(A3_PROTECTED));

  const parsed = parseQuicPacketHeader(A3_PROTECTED, 0, 0);
  assert.ok(parsed.type === 'initial');
  const opened = unprotectQuicPacket(server, A3_PROTECTED, parsed.pnOffset, -1);
  assert.equal(opened.packetNumber, 1);
  assert.deepEqual(opened.payload, A3_PAYLOAD);
});

test('RFC 9001 A.4: the Retry integrity tag over the pseudo-packet with the original DCID', () => {
  const retry = hex('ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba');
  const body = retry.subarray(0, retry.length - 16);
  assert.equal(toHex(quicRetryIntegrityTag(DCID, body)), '04a265ba2eff4d829058fb3f0f2496ba');
  assert.equal(verifyQuicRetryIntegrity(DCID, retry), true);
  assert.equal(verifyQuicRetryIntegrity(hex('8394c8f03e515709'), retry), false, 'another original DCID');
  const built = encodeQuicRetry({
    originalDcid: DCID,
    dcid: new Uint8Array(0),
    scid: hex('f067a5502a4262b5'),
    token: Buffer.from('token'),
    unused: 0x0f,
  });
  assert.equal(toHex(built), toHex(retry));
  const parsed = parseQuicPacketHeader(retry, 0, 0);
  assert.ok(parsed.type === 'retry');
  assert.equal(Buffer.from(parsed.token).toString(), 'token');
  assert.equal(toHex(parsed.integrityTag), '04a265ba2eff4d829058fb3f0f2496ba');
  const tampered = retry.slice();
  tampered[20] = tampered[20]! ^ 0x01;
  assert.equal(verifyQuicRetryIntegrity(DCID, tampered), false, 'a changed token');
});

test('RFC 9001 A.5: ChaCha20-Poly1305 short header packet (key, iv, hp, ku, nonce, mask, packet)', () => {
  const secret = hex('9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b');
  const keys: QuicPacketKeys = deriveQuicPacketKeys(secret, 'chacha20-poly1305');
  assert.equal(toHex(keys.key), 'c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8');
  assert.equal(toHex(keys.iv), 'e0459b3474bdd0e44a41c144');
  assert.equal(toHex(keys.hp), '25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4');
  assert.equal(
    toHex(nextQuicSecret(secret, 'chacha20-poly1305')),
    '1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9',
  );
  assert.equal(
    toHex(hkdfExpandLabel('sha256', secret, 'quic ku', new Uint8Array(0), 32)),
    '1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9',
  );
  const pn = 654360564;
  assert.equal(toHex(quicNonce(keys.iv, pn)), 'e0459b3474bdd0e46d417eb0');
  const header = writeQuicShortHeader({ dcid: new Uint8Array(0), packetNumber: pn, packetNumberLength: 3 });
  assert.equal(toHex(header), '4200bff4');
  assert.equal(toHex(quicHeaderProtectionMask(keys, hex('5e5cd55c41f69080575d7999c25a5bfb'))), 'aefefe7d03');
  const packet = protectQuicPacket(keys, header, pn, Uint8Array.of(0x01));
  assert.equal(toHex(packet), '4cfe4189655e5cd55c41f69080575d7999c25a5bfb');

  const parsed = parseQuicPacketHeader(packet, 0, 0);
  assert.ok(parsed.type === '1rtt');
  const opened = unprotectQuicPacket(keys, packet, parsed.pnOffset, pn - 1);
  assert.equal(opened.packetNumber, pn);
  assert.equal(toHex(opened.header), '4200bff4');
  assert.deepEqual(parseQuicFrames(opened.payload, '1rtt'), [{ type: 'ping' }]);
  assert.equal(opened.keyPhase, false);
});
