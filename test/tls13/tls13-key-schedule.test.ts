/** The key schedule against RFC 8448 §3 (Simple 1-RTT Handshake), every value byte for byte. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tls13NamedGroup } from '../../src/tls13/tls13-extensions.js';
import {
  deriveSecret,
  exportKeyingMaterial,
  finishedKey,
  finishedVerifyData,
  hkdfExpand,
  hkdfExpandLabel,
  hkdfExtract,
  hkdfLabel,
  nextTrafficSecret,
  resumptionPsk,
  TLS_AES_128_GCM_SHA256,
  TLS_AES_256_GCM_SHA384,
  Tls13KeySchedule,
  trafficKeys,
  transcriptHash,
  verifyFinished,
} from '../../src/tls13/tls13-key-schedule.js';
import { Tls13KeyShare } from '../../src/tls13/tls13-key-share.js';
import { h, rfc8448 as v } from './rfc8448-vectors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('RFC 5869 A.1: HKDF-Extract and HKDF-Expand with SHA-256', () => {
  const prk = hkdfExtract('sha256', h('000102030405060708090a0b0c'), Buffer.alloc(22, 0x0b));
  assert.equal(hex(prk), '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
  const okm = hkdfExpand('sha256', prk, h('f0f1f2f3f4f5f6f7f8f9'), 42);
  assert.equal(
    hex(okm),
    '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  );
});

test('RFC 8448 §3: X25519 key shares and the shared secret', () => {
  const client = Tls13KeyShare.generate(Tls13NamedGroup.x25519, v.clientPrivateKey);
  const server = Tls13KeyShare.generate(Tls13NamedGroup.x25519, v.serverPrivateKey);
  assert.equal(hex(client.publicKey), hex(v.clientPublicKey));
  assert.equal(hex(server.publicKey), hex(v.serverPublicKey));
  assert.equal(hex(client.computeSecret(server.publicKey)), hex(v.sharedSecret));
  assert.equal(hex(server.computeSecret(client.publicKey)), hex(v.sharedSecret));
});

test('RFC 8448 §3: HkdfLabel info bytes', () => {
  const emptyHash = transcriptHash('sha256');
  assert.equal(hex(hkdfLabel('derived', emptyHash, 32)), hex(v.derivedInfo));
  assert.equal(hex(hkdfLabel('c hs traffic', v.helloHash, 32)), hex(v.clientHandshakeInfo));
  assert.equal(hex(hkdfLabel('key', Buffer.alloc(0), 16)), hex(v.keyInfo));
  assert.equal(hex(hkdfLabel('iv', Buffer.alloc(0), 12)), hex(v.ivInfo));
  assert.equal(hex(hkdfLabel('finished', Buffer.alloc(0), 32)), hex(v.finishedInfo));
});

test('RFC 8448 §3: early, handshake and master secrets and every traffic secret', () => {
  const ks = new Tls13KeySchedule('sha256');
  assert.equal(hex(ks.earlySecret), hex(v.earlySecret));
  assert.equal(
    hex(deriveSecret('sha256', ks.earlySecret, 'derived', transcriptHash('sha256'))),
    hex(v.derivedForHandshake),
  );

  const helloHash = transcriptHash('sha256', v.clientHello, v.serverHello);
  assert.equal(hex(helloHash), hex(v.helloHash));
  assert.equal(hex(ks.deriveHandshakeSecret(v.sharedSecret)), hex(v.handshakeSecret));
  const hs = ks.handshakeTrafficSecrets(helloHash);
  assert.equal(hex(hs.client), hex(v.clientHandshakeTrafficSecret));
  assert.equal(hex(hs.server), hex(v.serverHandshakeTrafficSecret));

  assert.equal(
    hex(deriveSecret('sha256', ks.handshakeSecret, 'derived', transcriptHash('sha256'))),
    hex(v.derivedForMaster),
  );
  assert.equal(hex(ks.deriveMasterSecret()), hex(v.masterSecret));

  const serverFinishedHash = transcriptHash(
    'sha256',
    v.clientHello,
    v.serverHello,
    v.encryptedExtensions,
    v.certificate,
    v.certificateVerify,
    v.serverFinished,
  );
  assert.equal(hex(serverFinishedHash), hex(v.serverFinishedHash));
  const ap = ks.applicationTrafficSecrets(serverFinishedHash);
  assert.equal(hex(ap.client), hex(v.clientApplicationTrafficSecret));
  assert.equal(hex(ap.server), hex(v.serverApplicationTrafficSecret));
  assert.equal(hex(ks.exporterMasterSecret(serverFinishedHash)), hex(v.exporterMasterSecret));

  const clientFinishedHash = transcriptHash(
    'sha256',
    v.clientHello,
    v.serverHello,
    v.encryptedExtensions,
    v.certificate,
    v.certificateVerify,
    v.serverFinished,
    v.clientFinished,
  );
  assert.equal(hex(clientFinishedHash), hex(v.clientFinishedHash));
  const rms = ks.resumptionMasterSecret(clientFinishedHash);
  assert.equal(hex(rms), hex(v.resumptionMasterSecret));
  assert.equal(hex(resumptionPsk('sha256', rms, h('00 00'))), hex(v.resumptionPsk));

  // RFC 8448 §4: the resumed handshake's early secret and binder key come from that PSK.
  const resumed = new Tls13KeySchedule('sha256', v.resumptionPsk);
  assert.equal(hex(resumed.earlySecret), hex(v.resumedEarlySecret));
  assert.equal(hex(resumed.binderKey(true)), hex(v.resumptionBinderKey));
});

test('RFC 8448 §3: handshake and application keys and IVs (§7.3)', () => {
  const s = TLS_AES_128_GCM_SHA256;
  const sh = trafficKeys(s, v.serverHandshakeTrafficSecret);
  assert.equal(hex(sh.key), hex(v.serverHandshakeKey));
  assert.equal(hex(sh.iv), hex(v.serverHandshakeIv));
  const ch = trafficKeys(s, v.clientHandshakeTrafficSecret);
  assert.equal(hex(ch.key), hex(v.clientHandshakeKey));
  assert.equal(hex(ch.iv), hex(v.clientHandshakeIv));
  const sa = trafficKeys(s, v.serverApplicationTrafficSecret);
  assert.equal(hex(sa.key), hex(v.serverApplicationKey));
  assert.equal(hex(sa.iv), hex(v.serverApplicationIv));
  const ca = trafficKeys(s, v.clientApplicationTrafficSecret);
  assert.equal(hex(ca.key), hex(v.clientApplicationKey));
  assert.equal(hex(ca.iv), hex(v.clientApplicationIv));
});

test('RFC 8448 §3: Finished keys and both Finished MACs', () => {
  assert.equal(hex(finishedKey('sha256', v.serverHandshakeTrafficSecret)), hex(v.serverFinishedKey));
  assert.equal(hex(finishedKey('sha256', v.clientHandshakeTrafficSecret)), hex(v.clientFinishedKey));
  const beforeServerFinished = transcriptHash(
    'sha256',
    v.clientHello,
    v.serverHello,
    v.encryptedExtensions,
    v.certificate,
    v.certificateVerify,
  );
  const serverVerify = finishedVerifyData('sha256', v.serverHandshakeTrafficSecret, beforeServerFinished);
  assert.equal(hex(serverVerify), hex(v.serverVerifyData));
  assert.equal(hex(v.serverFinished.subarray(4)), hex(serverVerify));
  assert.equal(
    hex(finishedVerifyData('sha256', v.clientHandshakeTrafficSecret, v.serverFinishedHash)),
    hex(v.clientVerifyData),
  );
  assert.ok(
    verifyFinished('sha256', v.clientHandshakeTrafficSecret, v.serverFinishedHash, v.clientVerifyData),
  );
  const wrong = Buffer.from(v.clientVerifyData);
  wrong[0]! ^= 1;
  assert.ok(!verifyFinished('sha256', v.clientHandshakeTrafficSecret, v.serverFinishedHash, wrong));
  assert.ok(
    !verifyFinished('sha256', v.clientHandshakeTrafficSecret, v.serverFinishedHash, wrong.subarray(1)),
  );
});

test('SHA-384 suite: sizes of secrets, keys and IVs; traffic update and exporter', () => {
  const ks = new Tls13KeySchedule('sha384');
  assert.equal(ks.earlySecret.length, 48);
  ks.deriveHandshakeSecret(Buffer.alloc(32, 7));
  const hs = ks.handshakeTrafficSecrets(transcriptHash('sha384', Buffer.from('x')));
  assert.equal(hs.client.length, 48);
  const k = trafficKeys(TLS_AES_256_GCM_SHA384, hs.server);
  assert.equal(k.key.length, 32);
  assert.equal(k.iv.length, 12);
  assert.equal(nextTrafficSecret('sha384', hs.client).length, 48);
  assert.notEqual(hex(nextTrafficSecret('sha384', hs.client)), hex(hs.client));
  assert.equal(exportKeyingMaterial('sha384', hs.client, 'EXPORTER-test', Buffer.alloc(0), 20).length, 20);
  // QUIC labels give other keys from the same secret (RFC 9001 §5.1).
  const quic = trafficKeys(TLS_AES_256_GCM_SHA384, hs.server, { key: 'quic key', iv: 'quic iv' });
  assert.notEqual(hex(quic.key), hex(k.key));
  assert.equal(hex(quic.key), hex(hkdfExpandLabel('sha384', hs.server, 'quic key', Buffer.alloc(0), 32)));
});

test('RFC 9001 A.1: QUIC initial secrets via HKDF-Expand-Label', () => {
  const salt = h('38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
  const initial = hkdfExtract('sha256', salt, h('8394c8f03e515708'));
  assert.equal(hex(initial), '7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44');
  const client = hkdfExpandLabel('sha256', initial, 'client in', Buffer.alloc(0), 32);
  assert.equal(hex(client), 'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea');
  const keys = trafficKeys(TLS_AES_128_GCM_SHA256, client, { key: 'quic key', iv: 'quic iv' });
  assert.equal(hex(keys.key), '1f369613dd76d5467730efcbe3b1a22d');
  assert.equal(hex(keys.iv), 'fa044b2f42a3fd3b46fb255c');
});
