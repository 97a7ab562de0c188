/**
 * The HTTP/2 clients bench/h2 compares, one per process so each can be pinned to a core:
 * `node dist/bench/h2-client-target.js <avx|node> <url> <requests> <streams>` GETs `url`
 * `requests` times over ONE h2c connection (prior knowledge) with `streams` requests in flight,
 * after a warm-up of a tenth of that, reading every body, and prints `<requests/s>`.
 *
 * - avx: `new Client({ http2: true })` with its default policies (redirect, retry,
 *   decompression), as an application would use it.
 * - node: a bare `node:http2` session (`session.request`), no policies.
 */
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import { Client } from '../src/client/client.js';

const [kind, url, requestsArg, streamsArg] = process.argv.slice(2);
const requests = Number(requestsArg ?? 50000);
const streams = Number(streamsArg ?? 100);

type Get = () => Promise<void>;

/** Runs `total` GETs with `streams` in flight; returns requests per second. */
async function run(get: Get, total: number): Promise<number> {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await get();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(streams, total) }, worker));
  return (total * 1000) / (performance.now() - t0);
}

async function main(): Promise<void> {
  const target = new URL(url!);
  let get: Get;
  let close: () => Promise<void>;
  if (kind === 'avx') {
    const client = new Client({ http2: true });
    get = async () => {
      const res = await client.get(target);
      await res.bytes();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    };
    close = async () => {
      await client.close();
      if (client.stats().created !== 1) throw new Error(`${client.stats().created} connections were used`);
    };
  } else if (kind === 'node') {
    const session = http2.connect(target.origin);
    session.on('error', () => {});
    const path = `${target.pathname}${target.search}`;
    get = () =>
      new Promise<void>((resolve, reject) => {
        const req = session.request({ ':path': path });
        let status = 0;
        req.on('response', (headers) => {
          status = Number(headers[':status']);
        });
        req.on('data', () => {});
        req.on('end', () => (status === 200 ? resolve() : reject(new Error(`status ${status}`))));
        req.on('error', reject);
      });
    close = () => new Promise<void>((resolve) => session.close(() => resolve()));
  } else {
    throw new Error(`unknown client kind ${kind}`);
  }
  await run(get, Math.max(streams, Math.floor(requests / 10))); // warm-up: connection, JIT
  const rps = await run(get, requests);
  await close();
  console.log(rps.toFixed(0));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
