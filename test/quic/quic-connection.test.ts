/**
 * The sans-I/O QUIC connection (RFC 9000, 9001, 9002): a client core and a server core back to
 * back through an in-memory network that delays, reorders, duplicates and drops datagrams with
 * a seeded PRNG, driven by a fake clock (time is an input: no real timers anywhere).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  QuicConnection,
  type QuicConnectionEvent,
  type QuicConnectionLimits,
} from '../../src/quic/quic-connection.js';
import { QuicError } from '../../src/quic/quic-error.js';
import { parseQuicPacketHeader } from '../../src/quic/quic-packet-header.js';
import { seededRandom } from '../seeded-random.js';
import { testCertificate } from '../tls-certificate.js';

type Side = 'client' | 'server';

interface NetworkOptions {
  seed?: number;
  /** Probability that a datagram is dropped. */
  loss?: number;
  /** Probability that a datagram is delivered twice. */
  duplicate?: number;
  /** One-way delay in ms; each datagram also gets up to `jitter` ms more (which reorders them). */
  delay?: number;
  jitter?: number;
  /** Decides per datagram whether to drop it (after `loss`). */
  drop?: (from: Side, datagram: Uint8Array, now: number) => boolean;
}

interface Pair {
  client: QuicConnection;
  server: QuicConnection;
  events: Record<Side, QuicConnectionEvent[]>;
  /** Datagrams sent by each side, as sent. */
  sent: Record<Side, Uint8Array[]>;
  now: number;
  /** Runs the network and timers until `until()` or `maxTime` ms of fake time pass. */
  run(until: () => boolean, maxTime?: number): void;
}

function makePair(
  net: NetworkOptions = {},
  limits: { client?: QuicConnectionLimits; server?: QuicConnectionLimits } = {},
): Pair {
  const { cert, key } = testCertificate();
  const client = new QuicConnection({
    role: 'client',
    tls: { serverName: 'localhost', trustAnchors: [cert], now: Date.now(), alpnProtocols: ['h3'] },
    ...limits.client,
  });
  const server = new QuicConnection({
    role: 'server',
    tls: { certificateChain: [cert], privateKey: key, alpnProtocols: ['h3'] },
    ...limits.server,
  });
  const random = seededRandom(net.seed ?? 1);
  const inFlight: { to: Side; at: number; seq: number; bytes: Uint8Array }[] = [];
  let seq = 0;
  const pair: Pair = {
    client,
    server,
    events: { client: [], server: [] },
    sent: { client: [], server: [] },
    now: 0,
    run(until, maxTime = 120_000) {
      const end = pair.now + maxTime;
      const conn = (s: Side) => (s === 'client' ? client : server);
      for (let steps = 0; steps < 1_000_000; steps++) {
        for (const side of ['client', 'server'] as const) {
          for (const d of conn(side).pollDatagrams(pair.now)) {
            pair.sent[side].push(d);
            if (random() < (net.loss ?? 0)) continue;
            if (net.drop?.(side, d, pair.now)) continue;
            const copies = random() < (net.duplicate ?? 0) ? 2 : 1;
            for (let c = 0; c < copies; c++) {
              const at = pair.now + (net.delay ?? 10) + random() * (net.jitter ?? 0);
              inFlight.push({ to: side === 'client' ? 'server' : 'client', at, seq: seq++, bytes: d });
            }
          }
        }
        if (until()) return;
        inFlight.sort((a, b) => a.at - b.at || a.seq - b.seq);
        let next = inFlight[0]?.at;
        for (const side of ['client', 'server'] as const) {
          const t = conn(side).nextTimeout();
          if (t !== undefined && (next === undefined || t < next)) next = t;
        }
        if (next === undefined || next > end) {
          pair.now = Math.max(pair.now, end);
          return;
        }
        pair.now = Math.max(pair.now, next);
        while (inFlight.length > 0 && inFlight[0]!.at <= pair.now) {
          const d = inFlight.shift()!;
          pair.events[d.to].push(...conn(d.to).receiveDatagram(d.bytes, pair.now));
        }
        for (const side of ['client', 'server'] as const) {
          const t = conn(side).nextTimeout();
          if (t !== undefined && t <= pair.now) pair.events[side].push(...conn(side).onTimeout(pair.now));
        }
      }
      assert.fail(
        `the network loop did not settle at ${pair.now} (timers ${client.nextTimeout()}, ${server.nextTimeout()})`,
      );
    },
  };
  return pair;
}

function has(events: QuicConnectionEvent[], type: QuicConnectionEvent['type']): boolean {
  return events.some((e) => e.type === type);
}

function established(p: Pair): boolean {
  return has(p.events.client, 'handshake_complete') && has(p.events.server, 'handshake_complete');
}

/** The bytes received on `streamId`, and whether its end was seen. */
function streamBytes(events: QuicConnectionEvent[], streamId: number): { data: Buffer; ended: boolean } {
  const parts: Uint8Array[] = [];
  let ended = false;
  for (const e of events) {
    if (e.type === 'stream_data' && e.streamId === streamId) parts.push(e.data);
    if (e.type === 'stream_end' && e.streamId === streamId) ended = true;
  }
  return { data: Buffer.concat(parts), ended };
}

function payload(n: number, seed: number): Buffer {
  const r = seededRandom(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function sha(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function closes(events: QuicConnectionEvent[]): QuicConnectionEvent[] {
  return events.filter((e) => e.type === 'connection_closed');
}

test('handshake over a clean network: ALPN h3, transport parameters, HANDSHAKE_DONE, keys discarded', () => {
  const p = makePair();
  p.run(() => established(p));
  p.run(() => false, 200);
  const c = p.events.client.find((e) => e.type === 'handshake_complete');
  const s = p.events.server.find((e) => e.type === 'handshake_complete');
  assert.ok(c?.type === 'handshake_complete' && s?.type === 'handshake_complete');
  assert.equal(c.alpn, 'h3');
  assert.equal(s.alpn, 'h3');
  assert.deepEqual(c.peerTransportParameters.initialSourceConnectionId, p.server.sourceConnectionId);
  assert.deepEqual(s.peerTransportParameters.initialSourceConnectionId, p.client.sourceConnectionId);
  assert.equal(p.client.state, 'established');
  assert.equal(p.server.state, 'established');
  // Every client datagram with an Initial packet is padded to 1200 bytes (RFC 9000 §14.1).
  for (const d of p.sent.client) {
    const h = parseQuicPacketHeader(d, 0, 8);
    if (h.type === 'initial') assert.ok(d.length >= 1200, `client Initial datagram of ${d.length} bytes`);
  }
  // After the handshake, both sides send only 1-RTT (short header) packets: Initial and
  // Handshake keys are gone (RFC 9001 §4.9).
  const before = p.sent.client.length;
  const id = p.client.openStream();
  p.client.writeStream(id, Buffer.from('ping'), true);
  p.run(() => streamBytes(p.events.server, id).ended);
  for (const d of p.sent.client.slice(before)) assert.equal(d[0]! & 0x80, 0, 'a short header');
  assert.deepEqual(closes(p.events.client), []);
  assert.deepEqual(closes(p.events.server), []);
});

test('the server sends at most three times what it received before the address is validated (RFC 9000 §8.1)', () => {
  // Only the client's first datagram arrives; everything else the client sends is lost.
  let first = true;
  const p = makePair({
    drop: (from) => {
      if (from !== 'client') return false;
      const keep = first;
      first = false;
      return !keep;
    },
  });
  p.run(() => false, 20_000);
  const received = p.sent.client[0]!.length;
  const sent = p.sent.server.reduce((n, d) => n + d.length, 0);
  assert.ok(sent > 0, 'the server answered');
  assert.ok(sent <= 3 * received, `server sent ${sent} bytes for ${received} received`);
});

test('a large transfer both ways survives loss, duplication and reordering (seeded)', () => {
  for (const seed of [1, 2, 3]) {
    const p = makePair({ seed, loss: 0.1, duplicate: 0.05, delay: 20, jitter: 15 });
    p.run(() => established(p));
    assert.ok(established(p), `seed ${seed}: handshake`);
    const up = payload(150_000, seed);
    const down = payload(90_000, seed + 100);
    const id = p.client.openStream();
    p.client.writeStream(id, up, true);
    let answered = false;
    p.run(() => {
      if (!answered && streamBytes(p.events.server, id).ended) {
        answered = true;
        p.server.writeStream(id, down, true);
      }
      return answered && streamBytes(p.events.client, id).ended;
    });
    const atServer = streamBytes(p.events.server, id);
    const atClient = streamBytes(p.events.client, id);
    assert.equal(sha(atServer.data), sha(up), `seed ${seed}: client to server`);
    assert.equal(sha(atClient.data), sha(down), `seed ${seed}: server to client`);
    assert.deepEqual(closes(p.events.client), [], `seed ${seed}`);
    assert.deepEqual(closes(p.events.server), [], `seed ${seed}`);
  }
});

test('a lost flight is recovered by PTO and loss detection; the RTT estimate follows the delay', () => {
  // Drop every datagram between t=100 and t=400 ms of fake time, both ways.
  const p = makePair({ delay: 25, drop: (_from, _d, now) => now >= 100 && now < 400 });
  p.run(() => established(p));
  const id = p.client.openStream();
  p.client.writeStream(id, payload(40_000, 9), true);
  p.run(() => streamBytes(p.events.server, id).ended);
  assert.equal(sha(streamBytes(p.events.server, id).data), sha(payload(40_000, 9)));
  assert.ok(p.client.rtt >= 40 && p.client.rtt <= 120, `smoothed RTT ${p.client.rtt} for a 50 ms round trip`);
});

test('flow control: small windows are respected and credit is renewed as data is read', () => {
  const small = { maxData: 6000, maxStreamData: 3000 };
  const p = makePair({ seed: 5, loss: 0.02 }, { client: small, server: small });
  p.run(() => established(p));
  const ids = [p.client.openStream(), p.client.openStream(), p.client.openStream(false)];
  const data = ids.map((_, i) => payload(30_000, 40 + i));
  for (const [i, id] of ids.entries()) p.client.writeStream(id, data[i]!, true);
  p.run(() => ids.every((id) => streamBytes(p.events.server, id).ended));
  for (const [i, id] of ids.entries()) {
    assert.equal(sha(streamBytes(p.events.server, id).data), sha(data[i]!));
  }
  // A receiver closes with FLOW_CONTROL_ERROR when its limits are broken; nobody did.
  assert.deepEqual(closes(p.events.server), []);
  assert.deepEqual(closes(p.events.client), []);
});

test('manual credit: a receiver that does not consume stops the sender at the windows (RFC 9000 §4.1, §4.2)', () => {
  const limits = { maxData: 24_000, maxStreamData: 16_000, manualCredit: true };
  const p = makePair({ seed: 9 }, { server: limits });
  p.run(() => established(p));
  const ids = [p.client.openStream(), p.client.openStream()];
  const data = ids.map((_, i) => payload(100_000, 70 + i));
  for (const [i, id] of ids.entries()) p.client.writeStream(id, data[i]!, true);
  const delivered = () => ids.map((id) => streamBytes(p.events.server, id).data.length);
  const total = () => delivered().reduce((a, b) => a + b, 0);
  const clientBytes = () => p.sent.client.reduce((a, d) => a + d.length, 0);

  // Nothing is consumed: the sender fills MAX_DATA (no stream beyond its MAX_STREAM_DATA), then stops.
  p.run(() => false, 2_000);
  assert.equal(total(), 24_000);
  for (const n of delivered()) assert.ok(n <= 16_000);
  assert.equal(p.server.unconsumedBytes, 24_000);
  const before = clientBytes();
  p.run(() => false, 5_000);
  assert.equal(total(), 24_000, 'no stream data beyond the windows while nothing is consumed');
  assert.ok(clientBytes() - before < 1200, 'the sender stopped sending stream data');

  // Consuming less than half the connection window returns no credit yet.
  p.server.consumeStream(ids[0]!, 5_000);
  p.run(() => false, 2_000);
  assert.equal(total(), 24_000);
  assert.equal(p.server.unconsumedBytes, 19_000);

  // Consuming as the data arrives (as a driver would, sending after each consume) completes it.
  const consumed = new Map<number, number>(ids.map((id) => [id, 0]));
  const fresh = () => ids.some((id, i) => delivered()[i]! > consumed.get(id)!);
  const ended = () => ids.every((id) => streamBytes(p.events.server, id).ended);
  for (let round = 0; round < 1000 && !(ended() && !fresh()); round++) {
    for (const [i, id] of ids.entries()) {
      const n = delivered()[i]!;
      p.server.consumeStream(id, n - consumed.get(id)!);
      consumed.set(id, n);
    }
    p.run(() => fresh() || ended());
  }
  for (const [i, id] of ids.entries())
    assert.equal(sha(streamBytes(p.events.server, id).data), sha(data[i]!));
  assert.equal(p.server.unconsumedBytes, 0);
  assert.deepEqual(closes(p.events.server), []);
  assert.deepEqual(closes(p.events.client), []);
});

test('stream limits: MAX_STREAMS caps opening, and credit returns when peer streams finish (RFC 9000 §4.6)', () => {
  const p = makePair({}, { server: { maxStreamsBidi: 2, maxStreamsUni: 0 } });
  p.run(() => established(p));
  p.run(() => false, 100);
  assert.equal(p.client.canOpenStream(false), false);
  assert.throws(
    () => p.client.openStream(false),
    (e: unknown) => e instanceof QuicError && e.code === 'AVX_QUIC_STREAM_LIMIT',
  );
  const a = p.client.openStream();
  const b = p.client.openStream();
  assert.equal(p.client.canOpenStream(), false);
  for (const id of [a, b]) p.client.writeStream(id, Buffer.from(`hi ${id}`), true);
  p.run(() => [a, b].every((id) => streamBytes(p.events.server, id).ended));
  for (const id of [a, b]) p.server.writeStream(id, Buffer.from('bye'), true);
  p.run(() => p.client.canOpenStream());
  assert.equal(p.client.canOpenStream(), true);
  assert.equal(p.client.openStream(), 8, 'the third client bidirectional stream is 8 (RFC 9000 §2.1)');
});

test('RESET_STREAM and STOP_SENDING reach the peer (RFC 9000 §3.5, §19.4, §19.5)', () => {
  const p = makePair();
  p.run(() => established(p));
  const a = p.client.openStream();
  p.client.writeStream(a, Buffer.from('partial'));
  p.run(() => streamBytes(p.events.server, a).data.length === 7);
  p.client.resetStream(a, 42n);
  const b = p.client.openStream();
  p.client.writeStream(b, Buffer.from('x'));
  p.run(() => has(p.events.server, 'stream_reset') && streamBytes(p.events.server, b).data.length === 1);
  const reset = p.events.server.find((e) => e.type === 'stream_reset');
  assert.ok(reset?.type === 'stream_reset');
  assert.equal(reset.streamId, a);
  assert.equal(reset.errorCode, 42n);
  assert.equal(reset.finalSize, 7);
  p.server.stopSending(b, 7n);
  p.run(
    () =>
      has(p.events.client, 'stop_sending') &&
      p.events.server.filter((e) => e.type === 'stream_reset').length === 2,
  );
  const stop = p.events.client.find((e) => e.type === 'stop_sending');
  assert.ok(stop?.type === 'stop_sending');
  assert.equal(stop.errorCode, 7n);
  // The client answers STOP_SENDING with RESET_STREAM carrying the same code.
  const second = p.events.server.filter((e) => e.type === 'stream_reset')[1];
  assert.ok(second?.type === 'stream_reset' && second.streamId === b && second.errorCode === 7n);
});

test('CONNECTION_CLOSE: the peer drains, both end up closed after the timers (RFC 9000 §10.2)', () => {
  const p = makePair();
  p.run(() => established(p));
  p.client.close(0x10an, 'bye');
  p.run(() => p.client.state === 'closed' && p.server.state === 'closed');
  const atServer = closes(p.events.server)[0];
  assert.ok(atServer?.type === 'connection_closed');
  assert.equal(atServer.by, 'peer');
  assert.equal(atServer.application, true);
  assert.equal(atServer.errorCode, 0x10an);
  assert.equal(atServer.reason, 'bye');
  assert.equal(p.client.nextTimeout(), undefined);
  assert.equal(p.server.nextTimeout(), undefined);
});

test('idle timeout closes both sides silently when the network goes dark (RFC 9000 §10.1)', () => {
  let dark = false;
  const p = makePair(
    { drop: () => dark },
    { client: { maxIdleTimeout: 5000 }, server: { maxIdleTimeout: 8000 } },
  );
  p.run(() => established(p));
  p.run(() => false, 300);
  dark = true;
  const start = p.now;
  p.run(() => p.client.state === 'closed' && p.server.state === 'closed');
  for (const side of ['client', 'server'] as const) {
    const c = closes(p.events[side]);
    assert.equal(c.length, 1, side);
    assert.ok(c[0]?.type === 'connection_closed' && c[0].by === 'idle', side);
  }
  // The smaller of the two timeouts applies (5 s from the last packet, at most 300 ms before
  // the network went dark), well before 8 s.
  assert.ok(p.now - start >= 4700 && p.now - start < 8000, `closed after ${p.now - start} ms`);
});

/** Private state of a connection, to make one side misbehave on purpose. */
interface Internals {
  peer: { initialMaxData: number };
  peerMaxStreams: number[];
  streams: Map<number, { sendMax: number }>;
}

test('a peer that ignores MAX_DATA / MAX_STREAM_DATA is closed with FLOW_CONTROL_ERROR (RFC 9000 §4.1)', () => {
  for (const which of ['connection', 'stream'] as const) {
    const small = which === 'connection' ? { maxData: 4000 } : { maxStreamData: 4000 };
    const p = makePair({}, { server: small });
    p.run(() => established(p));
    const rogue = p.client as unknown as Internals;
    rogue.peer.initialMaxData = 1e9;
    const id = p.client.openStream();
    rogue.streams.get(id)!.sendMax = 1e9;
    p.client.writeStream(id, payload(50_000, 1), true);
    p.run(() => has(p.events.client, 'connection_closed'));
    const atServer = closes(p.events.server)[0];
    const atClient = closes(p.events.client)[0];
    assert.ok(atServer?.type === 'connection_closed' && atServer.by === 'local', which);
    assert.equal(atServer.errorCode, 0x03n, which);
    assert.ok(
      atClient?.type === 'connection_closed' && atClient.by === 'peer' && !atClient.application,
      which,
    );
    assert.equal(atClient.errorCode, 0x03n, which);
  }
});

test('a peer that opens streams beyond MAX_STREAMS is closed with STREAM_LIMIT_ERROR (RFC 9000 §4.6)', () => {
  const p = makePair({}, { server: { maxStreamsBidi: 1 } });
  p.run(() => established(p));
  (p.client as unknown as Internals).peerMaxStreams[0] = 10;
  p.client.openStream();
  const second = p.client.openStream();
  p.client.writeStream(second, Buffer.from('too many'), true);
  p.run(() => has(p.events.client, 'connection_closed'));
  const atClient = closes(p.events.client)[0];
  assert.ok(atClient?.type === 'connection_closed' && atClient.by === 'peer');
  assert.equal(atClient.errorCode, 0x04n);
});

test('misuse of the stream API throws', () => {
  const p = makePair();
  p.run(() => established(p));
  assert.throws(
    () => p.server.writeStream(0, Buffer.from('x')),
    QuicError,
    'a stream the client never opened',
  );
  const id = p.client.openStream(false);
  p.client.writeStream(id, Buffer.from('x'), true);
  assert.throws(() => p.client.writeStream(id, Buffer.from('y')), QuicError, 'after FIN');
  assert.throws(
    () => p.client.stopSending(id, 0n),
    QuicError,
    'our unidirectional stream has no receiving part',
  );
});
