import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Client } from '../../../src/client/client.js';
import { CompressionCostModel } from '../../../src/client/compression/compression-cost-model.js';
import { LinkEstimates } from '../../../src/client/compression/link-estimate.js';
import { requestCompression } from '../../../src/client/compression/request-compression-policy.js';

const CITIES = ['São Paulo', 'Rio de Janeiro', 'Buenos Aires', 'Santiago', 'Bogotá', 'Lima', 'Mexico City'];

/** A compressible JSON body of about `bytes` bytes. */
function jsonBody(bytes: number): string {
  const rows: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const row = JSON.stringify({ id: i, city: CITIES[i % 7], value: Math.round(Math.sin(i) * 1e6) });
    rows.push(row);
    size += row.length + 1;
  }
  return `[${rows.join(',')}]`;
}

interface Upload {
  encoding: string | undefined;
  decodedSha256: string;
  bytesOnWire: number;
}

/**
 * A node:http origin (a peer) that takes gzip request bodies, or, with `refuse`, answers 415
 * with `Accept-Encoding: identity` to them (RFC 7694 §3). Answers the decoded body's SHA-256.
 */
async function origin(refuse = false) {
  const uploads: Upload[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'];
      if (encoding !== undefined && refuse) {
        uploads.push({ encoding, decodedSha256: '', bytesOnWire: raw.length });
        res.writeHead(415, { 'accept-encoding': 'identity' }).end('no compressed bodies');
        return;
      }
      const decoded = encoding === 'gzip' ? gunzipSync(raw) : raw;
      const sha = createHash('sha256').update(decoded).digest('hex');
      uploads.push({ encoding, decodedSha256: sha, bytesOnWire: raw.length });
      res.end(sha);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    uploads,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP proxy to `port` passing client-to-server bytes at `bytesPerSecond`: a slow uplink. */
async function slowUplink(port: number, bytesPerSecond: number) {
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    upstream.pipe(client);
    // Each chunk is passed on only after the time it takes at the rate, as on a slow link.
    client.on('data', (chunk: Buffer) => {
      client.pause();
      setTimeout(
        () => {
          upstream.write(chunk);
          client.resume();
        },
        (chunk.length * 1000) / bytesPerSecond,
      );
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

test('the cost model sends as it is over fast links and compresses harder as the link slows', () => {
  const model = new CompressionCostModel();
  const size = 100_000;
  assert.equal(model.choose('gzip', size, 1e9).level, 0, '1 GB/s: compressing costs more than it saves');
  assert.equal(model.choose('gzip', size, 10e6).level, 1, '10 MB/s: the fastest level');
  assert.equal(model.choose('gzip', size, 1e6).level, 6, '1 MB/s');
  assert.equal(model.choose('gzip', size, 50e3).level, 9, '50 KB/s: the strongest level');
  assert.equal(model.choose('br', size, 10e3).level, 11);
  // A machine measured ten times slower than the table makes compressing dearer.
  const slow = new CompressionCostModel();
  slow.observe('gzip', 6, 1_000_000, 250_000, 333); // 3 MB/s against 30 in the table
  assert.ok(slow.correction('gzip').speedFactor < 0.2);
  assert.ok(slow.choose('gzip', size, 1e6).level < 6);
  assert.equal(slow.choose('gzip', size, 10e6).level, 0);
});

test('link estimates: least head time of small bodies, averaged throughput of large ones, bounded origins', () => {
  const links = new LinkEstimates({ maxOrigins: 2, minSampleBytes: 1000 });
  links.observe('a', 10, 5);
  links.observe('a', 10, 3);
  links.observe('a', 10, 4);
  assert.equal(links.get('a')!.baseLatencyMs, 3);
  assert.equal(links.get('a')!.throughput, undefined);
  links.observe('a', 100_000, 103); // 100 KB in 100 ms beyond the base latency
  assert.equal(links.get('a')!.throughput, 1_000_000);
  links.observe('a', 100_000, 53); // 2 MB/s, weighted 0.3
  assert.equal(Math.round(links.get('a')!.throughput!), 1_300_000);
  links.observe('b', 10, 1);
  links.observe('a', 10, 9); // a is now the most recent
  links.observe('c', 10, 1);
  assert.deepEqual(
    [links.get('a') !== undefined, links.get('b'), links.get('c') !== undefined, links.size],
    [true, undefined, true, 2],
  );
});

test('requestCompression() gzips bodies known in full; small and streamed bodies go as they are', async () => {
  const o = await origin();
  const policy = requestCompression({ level: 6 });
  const client = new Client({ retry: false }).use(policy);
  try {
    const big = jsonBody(64_000);
    assert.equal(await (await client.post(`${o.url}/`, { body: big })).text(), sha256(big));
    assert.equal(o.uploads[0]!.encoding, 'gzip');
    assert.ok(o.uploads[0]!.bytesOnWire < big.length / 3, `compressed to ${o.uploads[0]!.bytesOnWire}`);
    assert.equal(policy.lastLevel(o.url), 6);
    await (await client.post(`${o.url}/`, { body: 'small' })).text();
    assert.equal(o.uploads[1]!.encoding, undefined);
    const streamed = await client.post(`${o.url}/`, { body: Readable.from([Buffer.from(big)]) });
    assert.equal(await streamed.text(), sha256(big));
    assert.equal(o.uploads[2]!.encoding, undefined);
    await (await client.post(`${o.url}/`, { body: big, headers: { 'content-encoding': 'identity' } })).text();
    assert.equal(o.uploads[3]!.encoding, 'identity', 'a body with its own Content-Encoding is left alone');
    assert.throws(() => requestCompression({ level: 10 }), RangeError);
  } finally {
    await client.close();
    await o.close();
  }
});

test('a 415 refusing the coding (RFC 7694 §3) gets the body again uncompressed, and the origin no more compressed bodies', async () => {
  const o = await origin(true);
  const policy = requestCompression();
  const client = new Client({ retry: false }).use(policy);
  try {
    const body = jsonBody(20_000);
    const res = await client.post(`${o.url}/`, { body });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), sha256(body));
    assert.deepEqual(
      o.uploads.map((u) => u.encoding),
      ['gzip', undefined],
    );
    assert.ok(policy.refused(o.url));
    await (await client.post(`${o.url}/`, { body })).text();
    assert.deepEqual(
      o.uploads.map((u) => u.encoding),
      ['gzip', undefined, undefined],
    );
  } finally {
    await client.close();
    await o.close();
  }
});

test('level auto: a slow uplink (a throttling proxy) is measured slower than loopback and gets a stronger level', async () => {
  const o = await origin();
  const rate = 256 * 1024;
  const proxy = await slowUplink(o.port, rate);
  const policy = requestCompression({ origins: [o.url, proxy.url] });
  const client = new Client({ retry: false }).use(policy);
  try {
    const body = jsonBody(400_000);
    for (const url of [o.url, proxy.url]) {
      await (await client.get(`${url}/`)).text(); // base latency
      for (let i = 0; i < 2; i++)
        assert.equal(await (await client.post(`${url}/`, { body })).text(), sha256(body));
    }
    const direct = policy.links.get(o.url)!.throughput!;
    const slow = policy.links.get(proxy.url)!.throughput!;
    assert.ok(slow < rate * 3, `the slow link read ${Math.round(slow)} B/s through a ${rate} B/s proxy`);
    assert.ok(direct > slow * 5, `loopback ${Math.round(direct)} B/s vs ${Math.round(slow)} B/s`);
    // What the model picks for each, for the body above: stronger across the slow link.
    const fast = policy.model.choose('gzip', body.length, direct).level;
    const far = policy.model.choose('gzip', body.length, slow).level;
    assert.ok(far > fast, `slow link level ${far}, loopback level ${fast}`);
    assert.equal(policy.lastLevel(proxy.url), far);
    assert.ok(o.uploads.every((u) => u.decodedSha256 !== ''));
  } finally {
    await client.close();
    await proxy.close();
    await o.close();
  }
});
