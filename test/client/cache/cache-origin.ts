/**
 * Shared fixtures of the cache tests: a virtual clock (the tests never sleep) and a node:http
 * origin that counts the requests reaching it, stamps `Date` from the virtual clock and records
 * the request header fields it saw.
 */
import type http from 'node:http';
import { type CacheOptions, cachePolicy } from '../../../src/client/cache/cache-policy.js';
import { Client, type ClientOptions } from '../../../src/client/client.js';
import { formatHttpDate } from '../../../src/runtime/http-date.js';
import { httpServer } from '../client-test-servers.js';

/** A clock the test moves by hand. */
export class TestClock {
  /** Current time in ms (a whole second, as HTTP dates have second precision). */
  t = Date.UTC(2025, 0, 1, 12, 0, 0);
  readonly now = (): number => this.t;
  /** Moves the clock forward by `seconds`. */
  advance(seconds: number): void {
    this.t += seconds * 1000;
  }
}

/** An origin server plus a client whose dispatch chain has the cache policy. */
export interface CacheFixture {
  clock: TestClock;
  client: Client;
  origin: string;
  /** Requests that reached the origin. */
  readonly hits: number;
  /** Request header fields of each request that reached the origin. */
  seen: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** Starts an origin running `handler` and a client caching with `options` (clock injected). */
export async function cacheFixture(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, clock: TestClock) => void,
  options: CacheOptions = {},
  clientOptions: ClientOptions = {},
): Promise<CacheFixture> {
  const clock = new TestClock();
  const seen: http.IncomingHttpHeaders[] = [];
  let hits = 0;
  const server = await httpServer((req, res) => {
    hits++;
    seen.push(req.headers);
    res.setHeader('date', formatHttpDate(clock.t));
    handler(req, res, clock);
  });
  const client = new Client({ retry: false, ...clientOptions }).use(
    cachePolicy({ now: clock.now, ...options }),
  );
  return {
    clock,
    client,
    origin: server.origin,
    get hits() {
      return hits;
    },
    seen,
    async close() {
      await client.close();
      await server.close();
    },
  };
}
