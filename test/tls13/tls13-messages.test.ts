/** Handshake messages: RFC 8448 §3 bytes parsed and re-encoded byte for byte, and malformed input. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { Tls13Alert, Tls13Error } from '../../src/tls13/tls13-error.js';
import {
  decodeAlpn,
  decodeKeyShareClient,
  decodeKeyShareServer,
  decodeNamedGroupList,
  decodeServerName,
  decodeSignatureSchemeList,
  decodeSupportedVersionsClient,
  decodeSupportedVersionsServer,
  encodeAlpn,
  encodeKeyShareHelloRetryRequest,
  encodeServerName,
  encodeSupportedVersionsServer,
  findExtension,
  Tls13ExtensionType as X,
} from '../../src/tls13/tls13-extensions.js';
import { transcriptHash } from '../../src/tls13/tls13-key-schedule.js';
import {
  decodeCertificate,
  decodeCertificateVerify,
  decodeClientHello,
  decodeEncryptedExtensions,
  decodeFinished,
  decodeKeyUpdate,
  decodeNewSessionTicket,
  decodeServerHello,
  encodeCertificate,
  encodeCertificateVerify,
  encodeClientHello,
  encodeEncryptedExtensions,
  encodeFinished,
  encodeHelloRetryRequest,
  encodeKeyUpdate,
  encodeNewSessionTicket,
  encodeServerHello,
  Tls13HandshakeReassembler,
  Tls13HandshakeType,
} from '../../src/tls13/tls13-messages.js';
import { certificateVerifyContent, verifyWithScheme } from '../../src/tls13/tls13-signature.js';
import { h, rfc8448 as v } from './rfc8448-vectors.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function one(bytes: Buffer) {
  const msgs = new Tls13HandshakeReassembler().push(bytes);
  assert.equal(msgs.length, 1);
  return msgs[0]!;
}

function alertOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Tls13Error, `expected Tls13Error, got ${e}`);
    return e.alert;
  }
  assert.fail('expected a Tls13Error');
}

test('RFC 8448 §3 ClientHello: fields, typed extensions, byte-exact re-encoding', () => {
  const m = one(v.clientHello);
  assert.equal(m.type, Tls13HandshakeType.client_hello);
  const ch = decodeClientHello(m.body);
  assert.equal(ch.legacyVersion, 0x0303);
  assert.equal(hex(ch.random), 'cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece7');
  assert.equal(ch.legacySessionId.length, 0);
  assert.deepEqual(ch.cipherSuites, [0x1301, 0x1303, 0x1302]);
  assert.deepEqual([...ch.legacyCompressionMethods], [0]);
  assert.deepEqual(
    ch.extensions.map((e) => e.type),
    [0, 0xff01, 10, 0x23, 51, 43, 13, 45, 28],
  );
  assert.equal(decodeServerName(findExtension(ch.extensions, X.server_name)!), 'server');
  assert.deepEqual(
    decodeNamedGroupList(findExtension(ch.extensions, X.supported_groups)!),
    [0x1d, 0x17, 0x18, 0x19, 0x100, 0x101, 0x102, 0x103, 0x104],
  );
  const shares = decodeKeyShareClient(findExtension(ch.extensions, X.key_share)!);
  assert.equal(shares.length, 1);
  assert.equal(shares[0]!.group, 0x1d);
  assert.equal(hex(shares[0]!.keyExchange), hex(v.clientPublicKey));
  assert.deepEqual(
    decodeSupportedVersionsClient(findExtension(ch.extensions, X.supported_versions)!),
    [0x0304],
  );
  assert.deepEqual(
    decodeSignatureSchemeList(findExtension(ch.extensions, X.signature_algorithms)!),
    [
      0x0403, 0x0503, 0x0603, 0x0203, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601, 0x0201, 0x0402, 0x0502,
      0x0602, 0x0202,
    ],
  );
  assert.equal(hex(encodeClientHello(ch)), hex(v.clientHello));
});

test('RFC 8448 §3 ServerHello: not a HelloRetryRequest, re-encodes byte for byte', () => {
  const sh = decodeServerHello(one(v.serverHello).body);
  assert.equal(sh.isHelloRetryRequest, false);
  assert.equal(sh.cipherSuite, 0x1301);
  assert.equal(hex(sh.random), 'a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e26928');
  const share = decodeKeyShareServer(findExtension(sh.extensions, X.key_share)!);
  assert.equal(share.group, 0x1d);
  assert.equal(hex(share.keyExchange), hex(v.serverPublicKey));
  assert.equal(decodeSupportedVersionsServer(findExtension(sh.extensions, X.supported_versions)!), 0x0304);
  assert.equal(hex(encodeServerHello(sh)), hex(v.serverHello));
});

test('HelloRetryRequest is recognised by its random (RFC 8446 §4.1.3)', () => {
  const bytes = encodeHelloRetryRequest({
    legacySessionIdEcho: Buffer.alloc(0),
    cipherSuite: 0x1301,
    extensions: [
      { type: X.supported_versions, data: encodeSupportedVersionsServer(0x0304) },
      { type: X.key_share, data: encodeKeyShareHelloRetryRequest(0x17) },
    ],
  });
  const hrr = decodeServerHello(one(bytes).body);
  assert.equal(hrr.isHelloRetryRequest, true);
  assert.equal(hex(hrr.random), 'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c');
});

test('RFC 8448 §3 EncryptedExtensions, Certificate, CertificateVerify, Finished', () => {
  const ee = decodeEncryptedExtensions(one(v.encryptedExtensions).body);
  assert.deepEqual(
    ee.map((e) => e.type),
    [10, 28, 0],
  );
  assert.equal(decodeServerName(findExtension(ee, X.server_name)!), undefined);
  assert.equal(hex(encodeEncryptedExtensions(ee)), hex(v.encryptedExtensions));

  const cert = decodeCertificate(one(v.certificate).body);
  assert.equal(cert.context.length, 0);
  assert.equal(cert.entries.length, 1);
  assert.equal(cert.entries[0]!.data.length, 0x1b0);
  assert.equal(hex(encodeCertificate(cert)), hex(v.certificate));
  const x509 = new X509Certificate(cert.entries[0]!.data);
  assert.equal(x509.subject, 'CN=rsa');

  const cv = decodeCertificateVerify(one(v.certificateVerify).body);
  assert.equal(cv.algorithm, 0x0804);
  assert.equal(cv.signature.length, 128);
  assert.equal(hex(encodeCertificateVerify(cv)), hex(v.certificateVerify));

  const fin = decodeFinished(one(v.serverFinished).body, 32);
  assert.equal(hex(fin), hex(v.serverVerifyData));
  assert.equal(hex(encodeFinished(fin)), hex(v.serverFinished));
  assert.equal(
    alertOf(() => decodeFinished(fin.subarray(1), 32)),
    Tls13Alert.decode_error,
  );
});

test('RFC 8448 §3 CertificateVerify: RSA-PSS signature verifies with the trace certificate', () => {
  const x509 = new X509Certificate(decodeCertificate(one(v.certificate).body).entries[0]!.data);
  const cv = decodeCertificateVerify(one(v.certificateVerify).body);
  const th = transcriptHash('sha256', v.clientHello, v.serverHello, v.encryptedExtensions, v.certificate);
  const content = certificateVerifyContent('server', th);
  assert.ok(verifyWithScheme(cv.algorithm, x509.publicKey, content, cv.signature));
  // The client context string, or another transcript, does not verify.
  assert.ok(
    !verifyWithScheme(cv.algorithm, x509.publicKey, certificateVerifyContent('client', th), cv.signature),
  );
  const other = certificateVerifyContent('server', transcriptHash('sha256', v.clientHello));
  assert.ok(!verifyWithScheme(cv.algorithm, x509.publicKey, other, cv.signature));
  // A scheme that does not fit the key is refused.
  assert.ok(!verifyWithScheme(0x0403, x509.publicKey, content, cv.signature));
});

test('RFC 8448 §3 NewSessionTicket and KeyUpdate', () => {
  const t = decodeNewSessionTicket(one(v.newSessionTicket).body);
  assert.equal(t.lifetime, 30);
  assert.equal(t.ageAdd, 0xfad6aac5);
  assert.equal(hex(t.nonce), '0000');
  assert.equal(t.ticket.length, 0xb2);
  assert.deepEqual(
    t.extensions.map((e) => [e.type, hex(e.data)]),
    [[X.early_data, '00000400']],
  );
  assert.equal(hex(encodeNewSessionTicket(t)), hex(v.newSessionTicket));
  assert.equal(decodeKeyUpdate(one(encodeKeyUpdate(true)).body), true);
  assert.equal(decodeKeyUpdate(one(encodeKeyUpdate(false)).body), false);
  assert.equal(
    alertOf(() => decodeKeyUpdate(Buffer.of(2))),
    Tls13Alert.illegal_parameter,
  );
  assert.equal(
    alertOf(() => decodeKeyUpdate(Buffer.of(0, 0))),
    Tls13Alert.decode_error,
  );
});

test('reassembler: messages split at every byte boundary and several in one push', () => {
  const all = Buffer.concat([v.encryptedExtensions, v.certificate, v.certificateVerify, v.serverFinished]);
  for (let cut = 0; cut <= all.length; cut += 7) {
    const r = new Tls13HandshakeReassembler();
    const msgs = [...r.push(all.subarray(0, cut)), ...r.push(all.subarray(cut))];
    assert.deepEqual(
      msgs.map((m) => m.type),
      [8, 11, 15, 20],
    );
    assert.equal(hex(Buffer.concat(msgs.map((m) => m.raw))), hex(all));
    assert.equal(r.pendingBytes, 0);
  }
  const small = new Tls13HandshakeReassembler(100);
  assert.throws(
    () => small.push(v.certificate),
    (e: Tls13Error) => e.code === 'AVX_TLS13_MESSAGE_TOO_LARGE',
  );
});

test('every truncation of every RFC 8448 message is a decode_error', () => {
  const cases: [Buffer, (b: Buffer) => unknown][] = [
    [v.clientHello, decodeClientHello],
    [v.serverHello, decodeServerHello],
    [v.encryptedExtensions, decodeEncryptedExtensions],
    [v.certificate, decodeCertificate],
    [v.certificateVerify, decodeCertificateVerify],
    [v.newSessionTicket, decodeNewSessionTicket],
  ];
  for (const [msg, decode] of cases) {
    const body = msg.subarray(4);
    for (let n = 0; n < body.length; n++) {
      // A ClientHello / ServerHello cut exactly before its extensions is a legal (pre-1.3) form.
      if ((decode === decodeClientHello || decode === decodeServerHello) && n > 0) {
        try {
          decode(body.subarray(0, n));
        } catch (e) {
          assert.ok(e instanceof Tls13Error);
          assert.equal(e.alert, Tls13Alert.decode_error);
        }
        continue;
      }
      assert.equal(
        alertOf(() => decode(body.subarray(0, n))),
        Tls13Alert.decode_error,
        `cut at ${n}`,
      );
    }
    assert.equal(
      alertOf(() => decode(Buffer.concat([body, Buffer.of(0)]))),
      Tls13Alert.decode_error,
    );
  }
});

test('malformed fields: duplicate extension, odd lists, bad compression, bad lengths', () => {
  // The same extension twice.
  const dup = Buffer.from(v.clientHello);
  const ch = decodeClientHello(one(dup).body);
  ch.extensions.push({ type: X.server_name, data: encodeServerName('x') });
  assert.equal(
    alertOf(() => decodeClientHello(one(encodeClientHello(ch)).body)),
    Tls13Alert.decode_error,
  );
  // legacy_compression_method 1 in a ServerHello.
  const sh = Buffer.from(v.serverHello.subarray(4));
  sh[2 + 32 + 1 + 2] = 1;
  assert.equal(
    alertOf(() => decodeServerHello(sh)),
    Tls13Alert.illegal_parameter,
  );
  // A cipher_suites vector of odd length.
  const odd = Buffer.from(v.clientHello.subarray(4));
  odd[2 + 32 + 1 + 1] = 5;
  assert.equal(
    alertOf(() => decodeClientHello(odd)),
    Tls13Alert.decode_error,
  );
  // A legacy_session_id longer than 32.
  const longSid = Buffer.from(v.clientHello.subarray(4));
  longSid[34] = 33;
  assert.equal(
    alertOf(() => decodeClientHello(longSid)),
    Tls13Alert.decode_error,
  );
  // Key share: a group offered twice.
  const twice = h('00 0c 00 1d 00 02 aa bb 00 1d 00 02 cc dd');
  assert.equal(
    alertOf(() => decodeKeyShareClient(twice)),
    Tls13Alert.illegal_parameter,
  );
  // ALPN: an empty name, and a round trip.
  assert.equal(
    alertOf(() => decodeAlpn(h('00 03 02 68 33 00'))),
    Tls13Alert.decode_error,
  );
  assert.deepEqual(decodeAlpn(encodeAlpn(['h3', 'h3-29'])), ['h3', 'h3-29']);
  // Certificate with an empty cert_data.
  assert.equal(
    alertOf(() => decodeCertificate(h('00 00 00 05 00 00 00 00 00'))),
    Tls13Alert.decode_error,
  );
  // NewSessionTicket lifetime over 7 days.
  const t = decodeNewSessionTicket(one(v.newSessionTicket).body);
  t.lifetime = 604801;
  assert.equal(
    alertOf(() => decodeNewSessionTicket(one(encodeNewSessionTicket(t)).body)),
    Tls13Alert.illegal_parameter,
  );
});
