/**
 * The sans-I/O TLS 1.3 client and server back to back in memory (RFC 9001 §4.1 interface), with
 * certificates made by openssl in the test, and the failure paths with their alerts.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { Tls13Alert, Tls13Error } from '../../src/tls13/tls13-error.js';
import { Tls13NamedGroup } from '../../src/tls13/tls13-extensions.js';
import {
  Tls13Client,
  type Tls13ClientOptions,
  type Tls13Event,
  type Tls13Level,
  Tls13Server,
  type Tls13ServerOptions,
} from '../../src/tls13/tls13-handshake.js';
import { Tls13HandshakeReassembler, Tls13HandshakeType } from '../../src/tls13/tls13-messages.js';
import { testCa } from '../test-ca.js';
import { testCertificate } from '../tls-certificate.js';

// A minute after the test certificates are made: openssl starts their validity at the second it
// makes them, which can be after a time taken before (regression: a CI run failed so, 45 for 48).
const NOW = Date.now() + 60_000;
const TP_CLIENT = Buffer.from('client transport parameters');
const TP_SERVER = Buffer.from('server transport parameters');

function clientOptions(over: Partial<Tls13ClientOptions> = {}): Tls13ClientOptions {
  return {
    serverName: 'localhost',
    trustAnchors: [testCertificate().cert],
    now: NOW,
    alpnProtocols: ['h3'],
    transportParameters: TP_CLIENT,
    ...over,
  };
}

function serverOptions(over: Partial<Tls13ServerOptions> = {}): Tls13ServerOptions {
  return {
    certificateChain: [testCertificate().cert],
    privateKey: testCertificate().key,
    alpnProtocols: ['h3'],
    transportParameters: TP_SERVER,
    ...over,
  };
}

interface Log {
  client: Tls13Event[];
  server: Tls13Event[];
}

/**
 * Runs a handshake, delivering each side's 'send' events to the other in `chunk`-byte pieces,
 * and optionally rewriting bytes in flight. Returns every event of both sides.
 */
function handshake(
  client: Tls13Client,
  server: Tls13Server,
  options: {
    chunk?: number;
    tamper?: (from: 'client' | 'server', level: Tls13Level, b: Buffer) => Buffer;
  } = {},
): Log {
  const log: Log = { client: [], server: [] };
  const queue: { to: 'client' | 'server'; level: Tls13Level; bytes: Buffer }[] = [];
  const collect = (side: 'client' | 'server', events: Tls13Event[]) => {
    log[side].push(...events);
    for (const e of events) {
      if (e.type !== 'send') continue;
      const bytes = options.tamper ? options.tamper(side, e.level, e.bytes) : e.bytes;
      queue.push({ to: side === 'client' ? 'server' : 'client', level: e.level, bytes });
    }
  };
  collect('client', client.start());
  while (queue.length > 0) {
    const { to, level, bytes } = queue.shift()!;
    const endpoint = to === 'client' ? client : server;
    const step = options.chunk ?? bytes.length;
    for (let i = 0; i < bytes.length; i += step)
      collect(to, endpoint.receive(level, bytes.subarray(i, i + step)));
  }
  return log;
}

function secrets(events: Tls13Event[]) {
  const out: Record<string, string> = {};
  for (const e of events) if (e.type === 'keys') out[`${e.level}/${e.direction}`] = e.secret.toString('hex');
  return out;
}

function complete(events: Tls13Event[]) {
  const c = events.find((e) => e.type === 'complete');
  assert.ok(c !== undefined && c.type === 'complete', 'handshake did not complete');
  return c;
}

function expectAlert(fn: () => unknown, alert: number, code?: string): Tls13Error {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Tls13Error, `expected Tls13Error, got ${e}`);
    assert.equal(e.alert, alert, `alert ${e.alert} (${e.message}), expected ${alert}`);
    if (code !== undefined) assert.equal(e.code, code);
    return e;
  }
  assert.fail('expected a Tls13Error');
}

test('self-signed P-256 server: both sides agree on every secret, ALPN and transport parameters', () => {
  const client = new Tls13Client(clientOptions());
  const server = new Tls13Server(serverOptions());
  const log = handshake(client, server);
  assert.ok(client.complete && server.complete);
  const c = secrets(log.client);
  const s = secrets(log.server);
  assert.equal(c['handshake/write'], s['handshake/read']);
  assert.equal(c['handshake/read'], s['handshake/write']);
  assert.equal(c['application/write'], s['application/read']);
  assert.equal(c['application/read'], s['application/write']);
  assert.equal(Object.keys(c).length, 4);
  const cc = complete(log.client);
  const sc = complete(log.server);
  assert.equal(cc.alpn, 'h3');
  assert.equal(sc.alpn, 'h3');
  assert.deepEqual(cc.peerTransportParameters, TP_SERVER);
  assert.deepEqual(sc.peerTransportParameters, TP_CLIENT);
  assert.equal(sc.serverName, 'localhost');
  assert.equal(cc.suite.name, 'TLS_AES_128_GCM_SHA256');
  assert.equal(cc.peerCertificates[0]!.subject, new X509Certificate(testCertificate().cert).subject);
  assert.deepEqual(
    client.exportKeyingMaterial('EXPORTER-x', Buffer.from('ctx'), 32),
    server.exportKeyingMaterial('EXPORTER-x', Buffer.from('ctx'), 32),
  );
  // Levels in order (RFC 9001 §4.1.4): the client's ClientHello at initial, Finished at handshake.
  const sent = log.client.filter((e) => e.type === 'send').map((e) => e.type === 'send' && e.level);
  assert.deepEqual(sent, ['initial', 'handshake']);
  const serverSent = log.server.filter((e) => e.type === 'send').map((e) => e.type === 'send' && e.level);
  assert.deepEqual(serverSent, ['initial', 'handshake']);
});

test('byte-at-a-time delivery gives the same result', () => {
  const client = new Tls13Client(clientOptions());
  const server = new Tls13Server(serverOptions());
  const log = handshake(client, server, { chunk: 1 });
  assert.equal(complete(log.client).alpn, 'h3');
  assert.equal(secrets(log.client)['application/write'], secrets(log.server)['application/read']);
});

test('CA-signed chain, SHA-384 suite and secp256r1 key share', () => {
  const ca = testCa();
  const client = new Tls13Client(
    clientOptions({ trustAnchors: [ca.ca], cipherSuites: [0x1302], groups: [Tls13NamedGroup.secp256r1] }),
  );
  const server = new Tls13Server(serverOptions({ certificateChain: [ca.cert], privateKey: ca.key }));
  const log = handshake(client, server);
  const cc = complete(log.client);
  assert.equal(cc.suite.name, 'TLS_AES_256_GCM_SHA384');
  assert.equal(secrets(log.client)['application/write']!.length, 96);
  assert.equal(secrets(log.client)['application/read'], secrets(log.server)['application/write']);
});

test('HelloRetryRequest when the key share group does not match (RFC 8446 §4.1.4)', () => {
  const client = new Tls13Client(
    clientOptions({
      groups: [Tls13NamedGroup.x25519, Tls13NamedGroup.secp256r1],
      keyShareGroups: [Tls13NamedGroup.x25519],
    }),
  );
  const server = new Tls13Server(serverOptions({ groups: [Tls13NamedGroup.secp256r1] }));
  const types: number[] = [];
  const log = handshake(client, server, {
    tamper: (_from, level, b) => {
      if (level === 'initial') for (const m of new Tls13HandshakeReassembler().push(b)) types.push(m.type);
      return b;
    },
  });
  // ClientHello, HelloRetryRequest (a ServerHello), ClientHello 2, ServerHello.
  assert.deepEqual(types, [1, 2, 1, 2]);
  assert.equal(secrets(log.client)['application/write'], secrets(log.server)['application/read']);
  assert.ok(client.complete && server.complete);
});

test('no group in common: handshake_failure', () => {
  const client = new Tls13Client(clientOptions({ groups: [Tls13NamedGroup.x25519] }));
  const server = new Tls13Server(serverOptions({ groups: [Tls13NamedGroup.secp384r1] }));
  expectAlert(() => handshake(client, server), Tls13Alert.handshake_failure);
});

test('wrong hostname: bad_certificate', () => {
  const client = new Tls13Client(clientOptions({ serverName: 'example.com' }));
  const e = expectAlert(
    () => handshake(client, new Tls13Server(serverOptions())),
    Tls13Alert.bad_certificate,
  );
  assert.equal(e.code, 'AVX_TLS13_CERTIFICATE');
  // And the endpoint stays failed.
  expectAlert(() => client.receive('handshake', Buffer.alloc(0)), Tls13Alert.bad_certificate);
});

test('expired (or not yet valid) certificate: certificate_expired', () => {
  const later = new Tls13Client(clientOptions({ now: NOW + 30 * 86400_000 }));
  expectAlert(() => handshake(later, new Tls13Server(serverOptions())), Tls13Alert.certificate_expired);
  const earlier = new Tls13Client(clientOptions({ now: NOW - 30 * 86400_000 }));
  expectAlert(() => handshake(earlier, new Tls13Server(serverOptions())), Tls13Alert.certificate_expired);
});

test('unknown CA: unknown_ca', () => {
  const ca = testCa();
  const client = new Tls13Client(clientOptions({ trustAnchors: [testCertificate().cert] }));
  const server = new Tls13Server(serverOptions({ certificateChain: [ca.cert], privateKey: ca.key }));
  expectAlert(() => handshake(client, server), Tls13Alert.unknown_ca);
});

test('CertificateVerify signed with another key: decrypt_error', () => {
  const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
  const server = new Tls13Server(serverOptions({ privateKey: other }));
  expectAlert(
    () => handshake(new Tls13Client(clientOptions()), server),
    Tls13Alert.decrypt_error,
    'AVX_TLS13_DECRYPT_ERROR',
  );
});

test('tampered server Finished and client Finished: decrypt_error', () => {
  const flipLast = (from: 'client' | 'server') => (f: string, level: Tls13Level, b: Buffer) => {
    if (f !== from || level !== 'handshake') return b;
    const c = Buffer.from(b);
    c[c.length - 1]! ^= 1;
    return c;
  };
  expectAlert(
    () =>
      handshake(new Tls13Client(clientOptions()), new Tls13Server(serverOptions()), {
        tamper: flipLast('server'),
      }),
    Tls13Alert.decrypt_error,
  );
  const server = new Tls13Server(serverOptions());
  expectAlert(
    () => handshake(new Tls13Client(clientOptions()), server, { tamper: flipLast('client') }),
    Tls13Alert.decrypt_error,
  );
  assert.ok(!server.complete);
});

test('ALPN: no protocol in common, or none offered, is no_application_protocol', () => {
  const server = () => new Tls13Server(serverOptions({ alpnProtocols: ['h3'] }));
  expectAlert(
    () => handshake(new Tls13Client(clientOptions({ alpnProtocols: ['h2'] })), server()),
    Tls13Alert.no_application_protocol,
  );
  expectAlert(
    () => handshake(new Tls13Client(clientOptions({ alpnProtocols: [] })), server()),
    Tls13Alert.no_application_protocol,
  );
  // Server without ALPN while the client requires one.
  expectAlert(
    () => handshake(new Tls13Client(clientOptions()), new Tls13Server(serverOptions({ alpnProtocols: [] }))),
    Tls13Alert.no_application_protocol,
  );
});

test('missing quic_transport_parameters: missing_extension', () => {
  expectAlert(
    () =>
      handshake(
        new Tls13Client(clientOptions({ transportParameters: undefined })),
        new Tls13Server(serverOptions()),
      ),
    Tls13Alert.missing_extension,
  );
});

test('no cipher suite in common: handshake_failure; bytes at the wrong level: unexpected_message', () => {
  expectAlert(
    () =>
      handshake(
        new Tls13Client(clientOptions({ cipherSuites: [0x1303] })),
        new Tls13Server(serverOptions({ cipherSuites: [0x1301] })),
      ),
    Tls13Alert.handshake_failure,
  );
  const client = new Tls13Client(clientOptions());
  client.start();
  expectAlert(
    () => client.receive('handshake', Buffer.of(Tls13HandshakeType.finished, 0, 0, 0)),
    Tls13Alert.unexpected_message,
  );
  const server = new Tls13Server(serverOptions());
  expectAlert(
    () => server.receive('initial', Buffer.of(Tls13HandshakeType.finished, 0, 0, 0)),
    Tls13Alert.unexpected_message,
  );
});

test('a KeyUpdate after the handshake is unexpected_message over QUIC (RFC 9001 §6)', () => {
  const client = new Tls13Client(clientOptions());
  const server = new Tls13Server(serverOptions());
  handshake(client, server);
  expectAlert(() => client.receive('application', Buffer.of(24, 0, 0, 1, 0)), Tls13Alert.unexpected_message);
  expectAlert(() => server.receive('application', Buffer.of(24, 0, 0, 1, 0)), Tls13Alert.unexpected_message);
});
