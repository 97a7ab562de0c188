/**
 * Our sans-I/O QUIC server core against a real client: ngtcp2's `gtlsclient` (Debian
 * ngtcp2-client) completes a QUIC v1 handshake with ALPN h3 against a test-only UDP driver
 * (node:dgram + a real-time timer) that runs {@link QuicConnection} in the server role with a
 * self-signed certificate made in the test; then, with our sans-I/O {@link H3Connection} glued
 * on top, it gets an HTTP/3 response to its request.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { H3Connection } from '../../src/h3/h3-connection.js';
import { QuicConnection, type QuicConnectionEvent } from '../../src/quic/quic-connection.js';
import { requirePeer } from '../peers.js';
import { testCertificate } from '../tls-certificate.js';

/** A one-connection UDP driver: owns the socket and the timer, the core owns the protocol. */
class TestUdpServer {
  readonly socket = dgram.createSocket('udp4');
  connection: QuicConnection | undefined;
  readonly events: QuicConnectionEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private peer: { address: string; port: number } | undefined;

  constructor(
    private readonly make: () => QuicConnection,
    /** Called with each batch of events, before the datagrams they caused are sent. */
    private readonly onEvents: (c: QuicConnection, events: QuicConnectionEvent[]) => void = () => {},
  ) {
    this.socket.on('message', (msg, rinfo) => {
      if (this.connection === undefined) {
        this.connection = this.make();
        this.peer = { address: rinfo.address, port: rinfo.port };
      }
      this.take(this.connection.receiveDatagram(msg, performance.now()));
      this.flush();
    });
  }

  private take(events: QuicConnectionEvent[]): void {
    this.events.push(...events);
    this.onEvents(this.connection!, events);
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this.socket.address().port;
  }

  private flush(): void {
    const c = this.connection!;
    for (const d of c.pollDatagrams(performance.now()))
      this.socket.send(d, this.peer!.port, this.peer!.address);
    clearTimeout(this.timer);
    const at = c.nextTimeout();
    if (at === undefined) return;
    this.timer = setTimeout(
      () => {
        this.take(c.onTimeout(performance.now()));
        this.flush();
      },
      Math.max(0, at - performance.now()),
    );
  }

  close(): void {
    clearTimeout(this.timer);
    this.socket.close();
  }
}

test("ngtcp2's gtlsclient completes a QUIC handshake with our server core (ALPN h3)", async (t) => {
  if (!requirePeer(t, 'gtlsclient')) return;
  const { cert, key } = testCertificate();
  const server = new TestUdpServer(
    () =>
      new QuicConnection({
        role: 'server',
        tls: { certificateChain: [cert], privateKey: key, alpnProtocols: ['h3'] },
      }),
  );
  const port = await server.listen();
  const child = spawn(
    'gtlsclient',
    ['--exit-on-all-streams-close', '127.0.0.1', String(port), `https://127.0.0.1:${port}/`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    output += b.toString();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no handshake in 15 s; gtlsclient said:\n${output}`)),
        15_000,
      );
      const poll = setInterval(() => {
        const serverDone = server.events.some((e) => e.type === 'handshake_complete');
        if (serverDone && /Negotiated ALPN is h3/.test(output)) {
          clearTimeout(timer);
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    const done = server.events.find((e) => e.type === 'handshake_complete');
    assert.ok(done?.type === 'handshake_complete');
    assert.equal(done.alpn, 'h3');
    assert.match(output, /Negotiated ALPN is h3/);
    // The client also saw our HANDSHAKE_DONE (RFC 9001 §4.1.2), and its request arrived.
    await waitFor(
      () => /handshake has been confirmed/.test(output),
      'handshake confirmed',
      () => output,
    );
    await waitFor(
      () => server.events.some((e) => e.type === 'stream_end' && e.streamId === 0),
      'request on stream 0',
      () => output,
    );
    assert.doesNotMatch(output, /CONNECTION_CLOSE|ERR_/i);
    assert.equal(
      server.events.filter((e) => e.type === 'connection_closed').length,
      0,
      `no close: ${JSON.stringify(
        server.events.filter((e) => e.type === 'connection_closed'),
        (_k, v) => (typeof v === 'bigint' ? String(v) : v),
      )}`,
    );
  } finally {
    child.kill();
    server.close();
  }
});

async function waitFor(ok: () => boolean, what: string, log: () => string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Glues a server {@link H3Connection} onto the QUIC connection's stream events and commands. */
function h3Glue(body: string): (c: QuicConnection, events: QuicConnectionEvent[]) => void {
  let h3: H3Connection | undefined;
  const seen = new Set<number>();
  const run = (c: QuicConnection) => {
    for (const cmd of h3!.takeCommands()) {
      if (cmd.kind === 'openUni') assert.equal(c.openStream(false), cmd.streamId);
      else if (cmd.kind === 'write') c.writeStream(cmd.streamId, cmd.bytes, cmd.fin);
      else if (cmd.kind === 'reset') c.resetStream(cmd.streamId, BigInt(cmd.code));
      else if (cmd.kind === 'stopSending') c.stopSending(cmd.streamId, BigInt(cmd.code));
      else c.close(BigInt(cmd.code), cmd.reason);
    }
  };
  return (c, events) => {
    for (const e of events) {
      if (e.type === 'handshake_complete') h3 = new H3Connection({ role: 'server' });
      if (h3 === undefined) continue;
      const h3Events = [];
      if ((e.type === 'stream_data' || e.type === 'stream_end') && !seen.has(e.streamId)) {
        seen.add(e.streamId);
        h3Events.push(...h3.streamOpened(e.streamId));
      }
      if (e.type === 'stream_data') h3Events.push(...h3.streamData(e.streamId, e.data, false));
      if (e.type === 'stream_end') h3Events.push(...h3.streamData(e.streamId, new Uint8Array(0), true));
      if (e.type === 'stream_reset') h3Events.push(...h3.streamReset(e.streamId, Number(e.errorCode)));
      for (const h of h3Events) {
        if (h.type === 'end') {
          h3.sendResponse(h.streamId, [':status', '200', 'content-type', 'text/plain'], Buffer.from(body));
        }
      }
      run(c);
    }
  };
}

test("ngtcp2's gtlsclient gets an HTTP/3 response from our QUIC core with our H3 core on top", async (t) => {
  if (!requirePeer(t, 'gtlsclient')) return;
  const { cert, key } = testCertificate();
  const body = `hello from avx-http over QUIC ${Math.random().toString(36).slice(2)}\n`;
  const server = new TestUdpServer(
    () =>
      new QuicConnection({
        role: 'server',
        tls: { certificateChain: [cert], privateKey: key, alpnProtocols: ['h3'] },
      }),
    h3Glue(body),
  );
  const port = await server.listen();
  const child = spawn(
    'gtlsclient',
    ['--exit-on-all-streams-close', '127.0.0.1', String(port), `https://127.0.0.1:${port}/index.html`],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    output += b.toString();
  });
  try {
    const exitCode = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // gtlsclient logs the response head and the body size, then closes with H3_NO_ERROR.
    const bodyLine = `http: stream 0x0 body ${Buffer.byteLength(body)} bytes`;
    await waitFor(
      () => output.includes(bodyLine),
      'the response body in the client output',
      () => output,
    );
    assert.match(output, /Negotiated ALPN is h3/);
    assert.match(output, /http: stream 0x0 \[:status: 200\]/);
    assert.match(output, /http: stream 0x0 \[content-type: text\/plain\]/);
    assert.equal(await exitCode, 0, 'gtlsclient exits 0 once all its streams are closed');
    const closed = server.events.find((e) => e.type === 'connection_closed');
    assert.ok(
      closed?.type === 'connection_closed' && closed.by === 'peer' && closed.errorCode === 0x100n,
      'H3_NO_ERROR',
    );
    assert.equal(server.events.filter((e) => e.type === 'connection_closed' && e.by !== 'peer').length, 0);
  } finally {
    child.kill();
    server.close();
  }
});
