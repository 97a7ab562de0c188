/**
 * Tests of regional failover against loopback peers: a refused port, 503, path and query kept,
 * POST and one-shot bodies not failed over, every region failing, and the circuit breaker
 * opening, skipping, and trying again after its cooldown (injected clock).
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import test from 'node:test';
import { Client } from '../../../src/client/client.js';
import { ConnectError } from '../../../src/client/client-errors.js';
import { AllRegionsFailedError } from '../../../src/client/regional/regional-errors.js';
import { regionalFailover } from '../../../src/client/regional/regional-failover.js';
import { delay, httpServer, readBody, type TestServer } from '../client-test-servers.js';

const PLACEHOLDER = 'http://api.regional.invalid';

/** A loopback port nobody listens on. */
async function refusedOrigin(): Promise<string> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** A server that records each request line and answers with `answer`. */
async function peer(
  answer: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
): Promise<TestServer & { seen: string[] }> {
  const seen: string[] = [];
  const server = await httpServer(async (req, res) => {
    const body = await readBody(req);
    seen.push(`${req.method} ${req.url}${body === '' ? '' : ` ${body}`}`);
    answer(req, res, body);
  });
  return Object.assign(server, { seen });
}

/** Waits (bounded, failing the test) until `condition` holds. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (condition()) return;
    await delay(5);
  }
  assert.fail(`never happened: ${what}`);
}

test('a refused connection fails over to the next region, keeping path and query', {
  timeout: 20_000,
}, async () => {
  const dead = await refusedOrigin();
  const live = await peer((_req, res) => res.end('live'));
  const other = await peer((_req, res) => res.end('direct'));
  const regional = regionalFailover({
    placeholderOrigin: PLACEHOLDER,
    endpoints: [
      { region: 'lima', url: dead },
      { region: 'bogota', url: live.origin },
    ],
  });
  const client = new Client({ retry: false }).use(regional);
  try {
    const response = await client.get(`${PLACEHOLDER}/v1/items?x=1&y=%20z#frag`);
    assert.equal(await response.text(), 'live');
    assert.equal(response.url, `${live.origin}/v1/items?x=1&y=%20z`);
    assert.deepEqual(live.seen, ['GET /v1/items?x=1&y=%20z']);
    assert.equal(regional.counters.failovers, 1);
    assert.equal(regional.health()[0]!.consecutiveFailures, 1);
    // Another origin passes through untouched.
    assert.equal(await (await client.get(`${other.origin}/plain`)).text(), 'direct');
    assert.deepEqual(other.seen, ['GET /plain']);
    assert.equal(live.seen.length, 1);
  } finally {
    await client.close();
    await live.close();
    await other.close();
  }
});

test('503 fails over and its body is discarded so the connection is reused', {
  timeout: 20_000,
}, async () => {
  const busy = await peer((req, res) => {
    if (req.url === '/direct') {
      res.end('a');
      return;
    }
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('x'.repeat(200_000));
  });
  const live = await peer((_req, res) => res.end('b'));
  const client = new Client({ retry: false }).use(
    regionalFailover({
      placeholderOrigin: PLACEHOLDER,
      endpoints: [
        { region: 'sao-paulo', url: busy.origin },
        { region: 'rio-de-janeiro', url: live.origin },
      ],
    }),
  );
  try {
    assert.equal(await (await client.get(`${PLACEHOLDER}/thing`)).text(), 'b');
    assert.deepEqual(busy.seen, ['GET /thing']);
    await until(() => client.stats(busy.origin).idle === 1, 'the 503 connection is idle again');
    assert.equal(await (await client.get(`${busy.origin}/direct`)).text(), 'a');
    assert.equal(busy.connections, 1, 'the discarded response left its connection reusable');
  } finally {
    await client.close();
    await busy.close();
    await live.close();
  }
});

test('POST is not failed over by default; methods opts it in', { timeout: 20_000 }, async () => {
  const dead = await refusedOrigin();
  const busy = await peer((_req, res) => {
    res.writeHead(503);
    res.end();
  });
  const live = await peer((_req, res, body) => res.end(`got ${body}`));
  const endpoints = [
    { region: 'santiago', url: busy.origin },
    { region: 'buenos-aires', url: live.origin },
  ];
  const client = new Client({ retry: false }).use(regionalFailover({ endpoints }));
  const optIn = new Client({ retry: false }).use(regionalFailover({ endpoints, methods: ['POST'] }));
  const refused = new Client({ retry: false }).use(
    regionalFailover({
      endpoints: [
        { region: 'santiago', url: dead },
        { region: 'buenos-aires', url: live.origin },
      ],
    }),
  );
  try {
    const response = await client.post(`${PLACEHOLDER}/orders`, { body: 'one' });
    assert.equal(response.status, 503, 'the 503 is returned as it is');
    await response.dump();
    assert.deepEqual(busy.seen, ['POST /orders one']);
    assert.deepEqual(live.seen, []);
    await assert.rejects(refused.post(`${PLACEHOLDER}/orders`, { body: 'two' }), ConnectError);
    assert.deepEqual(live.seen, [], 'a refused POST is not sent elsewhere either');
    assert.equal(await (await optIn.post(`${PLACEHOLDER}/orders`, { body: 'three' })).text(), 'got three');
    assert.deepEqual(live.seen, ['POST /orders three']);
  } finally {
    await client.close();
    await optIn.close();
    await refused.close();
    await busy.close();
    await live.close();
  }
});

test('a one-shot stream body is not failed over; a byte body is sent again intact', {
  timeout: 20_000,
}, async () => {
  const busy = await peer((_req, res) => {
    res.writeHead(503);
    res.end();
  });
  const live = await peer((_req, res, body) => res.end(`got ${body}`));
  const client = new Client({ retry: false }).use(
    regionalFailover({
      endpoints: [
        { region: 'bogota', url: busy.origin },
        { region: 'mexico-city', url: live.origin },
      ],
    }),
  );
  try {
    const streamed = await client.put(`${PLACEHOLDER}/doc`, { body: Readable.from([Buffer.from('once')]) });
    assert.equal(streamed.status, 503);
    await streamed.dump();
    assert.deepEqual(live.seen, []);
    assert.equal(await (await client.put(`${PLACEHOLDER}/doc`, { body: 'twice' })).text(), 'got twice');
    assert.deepEqual(busy.seen, ['PUT /doc once', 'PUT /doc twice']);
    assert.deepEqual(live.seen, ['PUT /doc twice']);
  } finally {
    await client.close();
    await busy.close();
    await live.close();
  }
});

test('when every region fails, AllRegionsFailedError carries each region', { timeout: 20_000 }, async () => {
  const dead = await refusedOrigin();
  const busy = await peer((_req, res) => {
    res.writeHead(503);
    res.end('busy');
  });
  const bad = await peer((_req, res) => {
    res.writeHead(502);
    res.end();
  });
  const regional = regionalFailover({
    endpoints: [
      { region: 'lima', url: dead },
      { region: 'santiago', url: busy.origin },
      { region: 'bogota', url: bad.origin },
    ],
  });
  const client = new Client({ retry: false }).use(regional);
  try {
    await assert.rejects(client.get(`${PLACEHOLDER}/x`), (err: AllRegionsFailedError) => {
      assert.ok(err instanceof AllRegionsFailedError);
      assert.equal(err.code, 'AVX_CLIENT_ALL_REGIONS_FAILED');
      assert.deepEqual(
        err.failures.map((f) => [f.region, f.origin, f.kind, f.status]),
        [
          ['lima', dead, 'error', undefined],
          ['santiago', busy.origin, 'status', 503],
          ['bogota', bad.origin, 'status', 502],
        ],
      );
      assert.ok(err.failures[0]!.error instanceof ConnectError);
      return true;
    });
    assert.equal(regional.counters.allRegionsFailed, 1);
    assert.equal(regional.counters.failovers, 2);
  } finally {
    await client.close();
    await busy.close();
    await bad.close();
  }
});

test('circuit breaker: opens after N failures, skips the region, one trial after the cooldown', {
  timeout: 20_000,
}, async () => {
  let now = 0;
  let down = true;
  const flaky = await peer((_req, res) => {
    res.writeHead(down ? 503 : 200);
    res.end(down ? '' : 'flaky');
  });
  const backup = await peer((_req, res) => res.end('backup'));
  const regional = regionalFailover({
    endpoints: [
      { region: 'buenos-aires', url: flaky.origin },
      { region: 'santiago', url: backup.origin },
    ],
    failureThreshold: 2,
    cooldownMs: 1000,
    now: () => now,
  });
  const client = new Client({ retry: false }).use(regional);
  const get = async () => (await client.get(`${PLACEHOLDER}/`)).text();
  try {
    assert.equal(await get(), 'backup');
    assert.equal(regional.health()[0]!.state, 'closed');
    assert.equal(await get(), 'backup');
    assert.equal(regional.health()[0]!.state, 'open');
    assert.equal(flaky.seen.length, 2);
    assert.equal(await get(), 'backup');
    now = 999;
    assert.equal(await get(), 'backup');
    assert.equal(flaky.seen.length, 2, 'skipped while open');
    now = 1000;
    assert.equal(await get(), 'backup');
    assert.equal(flaky.seen.length, 3, 'one trial after the cooldown');
    assert.equal(regional.health()[0]!.state, 'open', 'the failed trial reopened it');
    assert.equal(await get(), 'backup');
    assert.equal(flaky.seen.length, 3, 'the cooldown started again');
    now = 2000;
    down = false;
    assert.equal(await get(), 'flaky');
    assert.equal(regional.health()[0]!.state, 'closed', 'the successful trial closed it');
    assert.equal(await get(), 'flaky');
    assert.equal(backup.seen.length, 6);
  } finally {
    await client.close();
    await flaky.close();
    await backup.close();
  }
});

test('every region open: the request fails at once without touching a server', {
  timeout: 20_000,
}, async () => {
  const busy = await peer((_req, res) => {
    res.writeHead(504);
    res.end();
  });
  const regional = regionalFailover({
    endpoints: [{ region: 'lima', url: busy.origin }],
    failureThreshold: 1,
    now: () => 0,
  });
  const client = new Client({ retry: false }).use(regional);
  try {
    await assert.rejects(client.get(`${PLACEHOLDER}/`), AllRegionsFailedError);
    await assert.rejects(client.get(`${PLACEHOLDER}/`), (err: AllRegionsFailedError) => {
      assert.deepEqual(
        err.failures.map((f) => f.kind),
        ['circuit-open'],
      );
      return true;
    });
    assert.equal(busy.seen.length, 1);
  } finally {
    await client.close();
    await busy.close();
  }
});
