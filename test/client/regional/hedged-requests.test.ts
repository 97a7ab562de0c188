/**
 * Tests of hedged requests against loopback peers. Hedge delays run on a TimerWheel whose clock
 * and host timer the test drives, so "after afterMs" is a step the test takes, never a race:
 * a region that holds its response gets a hedge to the next region, the hedge's response wins
 * and the held attempt's connection is closed; the request's own AbortSignal aborts every attempt;
 * non-idempotent requests are never hedged; 'auto' delays follow recent head latencies.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import test from 'node:test';
import { Client } from '../../../src/client/client.js';
import { type ConnectError, RequestAbortedError } from '../../../src/client/client-errors.js';
import { AllRegionsFailedError } from '../../../src/client/regional/regional-errors.js';
import { regionalFailover } from '../../../src/client/regional/regional-failover.js';
import { TimerWheel } from '../../../src/runtime/timer-wheel.js';
import { delay, httpServer, readBody, type TestServer } from '../client-test-servers.js';

const PLACEHOLDER = 'http://api.regional.invalid';

/** A TimerWheel that only moves when the test calls `advance`. */
function manualWheel(): { wheel: TimerWheel; advance(ms: number): void } {
  let t = 0;
  const wheel = new TimerWheel({ clock: () => t, timers: { set: () => undefined, clear: () => {} } });
  return {
    wheel,
    advance(ms: number) {
      t += ms;
      wheel.runDue();
    },
  };
}

/** Waits (bounded, failing the test) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await delay(5);
  }
  assert.fail(`never happened: ${what}`);
}

interface Peer extends TestServer {
  /** `METHOD path` of every request received. */
  seen: string[];
  /** Sockets of received requests that have closed. */
  closedSockets: number;
  /** Answers every held request with `body`. */
  release(body: string): void;
}

/** A server that answers with `answer`, or, without one, holds every response until released. */
async function peer(answer?: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<Peer> {
  const seen: string[] = [];
  const held: http.ServerResponse[] = [];
  const watched = new WeakSet<net.Socket>();
  let closedSockets = 0;
  const server = await httpServer(async (req, res) => {
    if (!watched.has(req.socket)) {
      watched.add(req.socket);
      req.socket.once('close', () => {
        closedSockets++;
      });
    }
    await readBody(req);
    seen.push(`${req.method} ${req.url}`);
    if (answer !== undefined) answer(req, res);
    else held.push(res);
  });
  // Not Object.assign: it would copy the getters' current values instead of the getters.
  return {
    origin: server.origin,
    port: server.port,
    open: server.open,
    close: server.close,
    get connections() {
      return server.connections;
    },
    seen,
    get closedSockets() {
      return closedSockets;
    },
    release(body: string) {
      for (const res of held.splice(0)) res.end(body);
    },
  };
}

test('a held region gets a hedge after afterMs; the hedge wins; the held attempt is closed', {
  timeout: 20_000,
}, async () => {
  const held = await peer();
  const fast = await peer((_req, res) => res.end('fast'));
  const { wheel, advance } = manualWheel();
  const regional = regionalFailover({
    endpoints: [
      { region: 'sao-paulo', url: held.origin },
      { region: 'rio-de-janeiro', url: fast.origin },
    ],
    hedge: { afterMs: 50 },
    timerWheel: wheel,
  });
  const client = new Client({ retry: false }).use(regional);
  try {
    const pending = client.get(`${PLACEHOLDER}/slow?q=1`);
    await until(() => held.seen.length === 1, 'the first region received the request');
    advance(49);
    assert.equal(regional.counters.hedgesSent, 0, 'no hedge before afterMs');
    advance(1);
    assert.equal(regional.counters.hedgesSent, 1, 'a hedge at afterMs');
    const response = await pending;
    assert.equal(await response.text(), 'fast');
    assert.equal(response.url, `${fast.origin}/slow?q=1`);
    assert.deepEqual(fast.seen, ['GET /slow?q=1']);
    assert.equal(regional.counters.hedgesWon, 1);
    await until(() => held.closedSockets === 1, 'the held request saw its connection close');
    assert.equal(held.open.size, 0);
    assert.equal(regional.health()[0]!.consecutiveFailures, 0, 'losing a race is not a failure');
    assert.equal(wheel.size, 0, 'no hedge timer left behind');
  } finally {
    await client.close();
    await held.close();
    await fast.close();
  }
});

test("the request's own AbortSignal aborts every attempt", { timeout: 20_000 }, async () => {
  const first = await peer();
  const second = await peer();
  const { wheel, advance } = manualWheel();
  const regional = regionalFailover({
    endpoints: [
      { region: 'lima', url: first.origin },
      { region: 'bogota', url: second.origin },
    ],
    hedge: { afterMs: 20 },
    timerWheel: wheel,
  });
  const client = new Client({ retry: false }).use(regional);
  try {
    const controller = new AbortController();
    const pending = client.get(`${PLACEHOLDER}/both`, { signal: controller.signal });
    await until(() => first.seen.length === 1, 'the first region received the request');
    advance(20);
    await until(() => second.seen.length === 1, 'the hedge reached the second region');
    controller.abort(new Error('user gave up'));
    await assert.rejects(pending, (err: RequestAbortedError) => {
      assert.ok(err instanceof RequestAbortedError);
      assert.equal((err.cause as Error).message, 'user gave up');
      return true;
    });
    await until(() => first.closedSockets === 1 && second.closedSockets === 1, 'both attempts closed');
    assert.equal(regional.counters.hedgesWon, 0);
    assert.deepEqual(
      regional.health().map((h) => h.consecutiveFailures),
      [0, 0],
    );
    // Already aborted: nothing is sent.
    await assert.rejects(
      client.get(`${PLACEHOLDER}/again`, { signal: controller.signal }),
      RequestAbortedError,
    );
    assert.equal(first.seen.length, 1);
  } finally {
    await client.close();
    await first.close();
    await second.close();
  }
});

test('non-idempotent requests are never hedged (an idempotent one is, same setup)', {
  timeout: 20_000,
}, async () => {
  const slow = await peer();
  const other = await peer((_req, res) => res.end('other'));
  const { wheel, advance } = manualWheel();
  const regional = regionalFailover({
    endpoints: [
      { region: 'santiago', url: slow.origin },
      { region: 'buenos-aires', url: other.origin },
    ],
    hedge: { afterMs: 10, maxHedges: 3 },
    methods: ['GET', 'POST', 'PATCH'],
    timerWheel: wheel,
  });
  const client = new Client({ retry: false }).use(regional);
  try {
    for (const method of ['POST', 'PATCH']) {
      const pending = client.request({ url: `${PLACEHOLDER}/op`, method, body: 'x' });
      await until(() => slow.seen.length === 1, `${method} reached the first region`);
      assert.equal(wheel.size, 0, 'no hedge timer armed');
      advance(1000);
      slow.release('slow');
      assert.equal(await (await pending).text(), 'slow');
      slow.seen.length = 0;
    }
    assert.equal(regional.counters.hedgesSent, 0);
    assert.deepEqual(other.seen, []);
    const pending = client.get(`${PLACEHOLDER}/op`);
    await until(() => slow.seen.length === 1, 'GET reached the first region');
    advance(1000);
    assert.equal(await (await pending).text(), 'other');
    assert.equal(regional.counters.hedgesSent, 1);
  } finally {
    await client.close();
    await slow.close();
    await other.close();
  }
});

test("afterMs 'auto': the p90 of recent head latencies, with a floor", { timeout: 20_000 }, async () => {
  let now = 0;
  const latencies = [30, 100, 10, 60, 90, 20, 80, 40, 70, 50];
  let i = 0;
  const timed = await peer((_req, res) => {
    now += latencies[i++ % latencies.length]!;
    res.end('ok');
  });
  const spare = await peer((_req, res) => res.end('spare'));
  const endpoints = [
    { region: 'mexico-city', url: timed.origin },
    { region: 'bogota', url: spare.origin },
  ];
  const { wheel } = manualWheel();
  const auto = regionalFailover({
    endpoints,
    hedge: { afterMs: 'auto', initialAfterMs: 300 },
    now: () => now,
    timerWheel: wheel,
  });
  const floored = regionalFailover({
    endpoints,
    hedge: { afterMs: 'auto', minAfterMs: 95 },
    now: () => now,
    timerWheel: wheel,
  });
  const a = new Client({ retry: false }).use(auto);
  const b = new Client({ retry: false }).use(floored);
  try {
    for (let n = 0; n < 7; n++) await (await a.get(`${PLACEHOLDER}/`)).dump();
    assert.equal(auto.health()[0]!.hedgeAfterMs, 300, 'fewer than 8 samples: initialAfterMs');
    for (let n = 0; n < 3; n++) await (await a.get(`${PLACEHOLDER}/`)).dump();
    assert.equal(auto.health()[0]!.latencySamples, 10);
    assert.equal(auto.health()[0]!.hedgeAfterMs, 90);
    for (let n = 0; n < 10; n++) await (await b.get(`${PLACEHOLDER}/`)).dump();
    assert.equal(floored.health()[0]!.hedgeAfterMs, 95);
    assert.deepEqual(spare.seen, []);
  } finally {
    await a.close();
    await b.close();
    await timed.close();
    await spare.close();
  }
});

test('hedged requests still fail over at once and list every region when all fail', {
  timeout: 20_000,
}, async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const dead = `http://127.0.0.1:${(probe.address() as net.AddressInfo).port}`;
  await new Promise<void>((r) => probe.close(() => r()));
  const busy = await peer((_req, res) => {
    res.writeHead(503);
    res.end('busy');
  });
  const live = await peer((_req, res) => res.end('live'));
  const { wheel } = manualWheel();
  const failing = regionalFailover({
    endpoints: [
      { region: 'lima', url: busy.origin },
      { region: 'santiago', url: dead },
    ],
    hedge: { afterMs: 1000 },
    timerWheel: wheel,
  });
  const recovering = regionalFailover({
    endpoints: [
      { region: 'lima', url: dead },
      { region: 'santiago', url: live.origin },
    ],
    hedge: { afterMs: 1000 },
    timerWheel: wheel,
  });
  const a = new Client({ retry: false }).use(failing);
  const b = new Client({ retry: false }).use(recovering);
  try {
    await assert.rejects(a.get(`${PLACEHOLDER}/x`), (err: AllRegionsFailedError) => {
      assert.ok(err instanceof AllRegionsFailedError);
      assert.deepEqual(
        err.failures.map((f) => `${f.region} ${f.kind} ${f.status ?? (f.error as ConnectError).errno}`),
        ['lima status 503', 'santiago error ECONNREFUSED'],
      );
      return true;
    });
    assert.equal(failing.counters.failovers, 1);
    assert.equal(failing.counters.hedgesSent, 0);
    assert.equal(await (await b.get(`${PLACEHOLDER}/y`)).text(), 'live');
    assert.equal(recovering.counters.failovers, 1);
    assert.equal(wheel.size, 0);
  } finally {
    await a.close();
    await b.close();
    await busy.close();
    await live.close();
  }
});

test('over HTTP/2 the losing attempt resets only its stream: the held region keeps its connection', {
  timeout: 20_000,
}, async () => {
  // Two node:http2 cleartext servers (h2c, prior knowledge): one holds every response.
  const resets: number[] = [];
  const sessions: http2.ServerHttp2Session[] = [];
  const heldServer = http2.createServer();
  heldServer.on('session', (s) => sessions.push(s));
  let heldStreams = 0;
  heldServer.on('stream', (stream) => {
    heldStreams++;
    stream.on('close', () => resets.push(stream.rstCode));
  });
  const fastServer = http2.createServer((_req, res) => res.end('fast h2'));
  await new Promise<void>((resolve) => heldServer.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => fastServer.listen(0, '127.0.0.1', resolve));
  const heldOrigin = `http://127.0.0.1:${(heldServer.address() as net.AddressInfo).port}`;
  const fastOrigin = `http://127.0.0.1:${(fastServer.address() as net.AddressInfo).port}`;
  const { wheel, advance } = manualWheel();
  const regional = regionalFailover({
    endpoints: [
      { region: 'buenos-aires', url: heldOrigin },
      { region: 'santiago', url: fastOrigin },
    ],
    hedge: { afterMs: 20 },
    timerWheel: wheel,
  });
  const client = new Client({ retry: false, http2: true }).use(regional);
  try {
    const pending = client.get(`${PLACEHOLDER}/h2`);
    await until(() => heldStreams === 1, 'the held region received the request');
    advance(20);
    const response = await pending;
    assert.equal(response.httpVersion, '2');
    assert.equal(await response.text(), 'fast h2');
    await until(() => resets.length === 1, 'the held stream closed');
    assert.equal(resets[0], http2.constants.NGHTTP2_CANCEL, 'reset with CANCEL (RFC 9113 §8.7)');
    assert.equal(
      sessions[0]!.closed || sessions[0]!.destroyed,
      false,
      'the held region keeps its connection',
    );
  } finally {
    await client.close();
    for (const s of sessions) s.destroy();
    await new Promise<void>((resolve) => heldServer.close(() => resolve()));
    await new Promise<void>((resolve) => fastServer.close(() => resolve()));
  }
});
