/**
 * A real QUIC client's first packet, read with our packet layer: ngtcp2's `gtlsclient` (Debian
 * ngtcp2-client) sends its Initial to a UDP socket of ours; we parse the long header, derive the
 * Initial keys from its Destination Connection ID (RFC 9001 §5.2), remove header and payload
 * protection, and find the TLS ClientHello in CRYPTO frames (RFC 9001 §4.1.3) padded to a
 * datagram of at least 1200 bytes (RFC 9000 §14.1), which our TLS 1.3 codec decodes: ALPN h3,
 * QUIC transport parameters (RFC 9001 §8.2), TLS 1.3 only, and an empty legacy_session_id (§8.4).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { test } from 'node:test';
import { parseQuicFrames } from '../../src/quic/quic-frame-parser.js';
import { quicInitialKeys } from '../../src/quic/quic-initial-secrets.js';
import { parseQuicPacketHeader } from '../../src/quic/quic-packet-header.js';
import { unprotectQuicPacket } from '../../src/quic/quic-packet-protection.js';
import { decodeAlpn, findExtension, Tls13ExtensionType } from '../../src/tls13/tls13-extensions.js';
import { decodeClientHello, Tls13HandshakeReassembler } from '../../src/tls13/tls13-messages.js';
import { requirePeer } from '../peers.js';

/** The first datagram ngtcp2's client sends to a socket of ours. */
async function ngtcp2FirstDatagram(): Promise<Buffer> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  const child = spawn(
    'gtlsclient',
    ['--exit-on-all-streams-close', '127.0.0.1', String(port), `https://127.0.0.1:${port}/`],
    {
      stdio: 'ignore',
    },
  );
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no datagram from gtlsclient in 10 s')), 10_000);
      socket.once('message', (message) => {
        clearTimeout(timer);
        resolve(message);
      });
    });
  } finally {
    child.kill();
    socket.close();
  }
}

test("ngtcp2's client Initial: our header parser, Initial keys, packet protection and TLS 1.3 codec read its ClientHello", async (t) => {
  if (!requirePeer(t, 'gtlsclient')) return;
  const datagram = await ngtcp2FirstDatagram();
  assert.ok(datagram.length >= 1200, `an Initial datagram is at least 1200 bytes, got ${datagram.length}`);
  const header = parseQuicPacketHeader(datagram, 0, 0);
  assert.equal(header.form, 'long');
  assert.ok(header.form === 'long' && header.type === 'initial', 'an Initial packet');
  if (header.form !== 'long') return;
  assert.equal(header.version, 1);
  assert.ok(header.dcid.length >= 8, 'a client DCID of at least 8 bytes (RFC 9000 §7.2)');
  const keys = quicInitialKeys(header.dcid);
  const packet = unprotectQuicPacket(
    keys.client,
    datagram.subarray(0, header.packetEnd),
    header.pnOffset,
    -1,
  );
  const frames = parseQuicFrames(packet.payload, 'initial');
  const crypto = frames.filter((f) => f.type === 'crypto');
  assert.ok(crypto.length > 0, `CRYPTO frames in ${frames.map((f) => f.type).join(' ')}`);
  const first = crypto.find((f) => f.type === 'crypto' && f.offset === 0);
  assert.ok(first !== undefined && first.type === 'crypto');
  assert.equal(first.data[0], 0x01, 'the CRYPTO stream starts with a ClientHello (RFC 8446 §4)');
  // The ClientHello, reassembled from the CRYPTO frames in offset order.
  const ordered = crypto.flatMap((f) => (f.type === 'crypto' ? [f] : [])).sort((a, b) => a.offset - b.offset);
  const reassembler = new Tls13HandshakeReassembler();
  const messages = ordered.flatMap((f) => reassembler.push(f.data));
  assert.equal(messages.length, 1);
  assert.equal(messages[0]!.type, 1);
  const hello = decodeClientHello(messages[0]!.body);
  assert.equal(hello.legacySessionId.length, 0);
  assert.deepEqual(
    decodeAlpn(findExtension(hello.extensions, Tls13ExtensionType.application_layer_protocol_negotiation)!),
    ['h3'],
  );
  assert.ok(findExtension(hello.extensions, Tls13ExtensionType.quic_transport_parameters) !== undefined);
  assert.ok(findExtension(hello.extensions, Tls13ExtensionType.key_share) !== undefined);
  // The wrong keys (the server's) do not open it: the AEAD check is real.
  assert.throws(() =>
    unprotectQuicPacket(keys.server, datagram.subarray(0, header.packetEnd), header.pnOffset, -1),
  );
});
