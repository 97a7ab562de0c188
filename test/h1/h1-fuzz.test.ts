/**
 * Seeded mutation fuzzing of `H1Parser`. Valid requests and responses (GET, POST with
 * Content-Length, chunked with extensions and trailers, pipelined pairs, close-delimited and
 * interim responses, upgrades) are mutated by byte flips, insertions of the bytes that matter to
 * HTTP/1.1 framing (CR, LF, NUL, SP, HTAB, `:`, `;`, digits), deletions, truncation, duplicated
 * header lines and spliced ranges, then parsed whole and cut at random points. For every input:
 * the parser completes or throws `H1ParseError` (anything else fails, with the seed, iteration
 * and input in hex), reports no more body bytes than it was given, reports a bounded number of
 * events, and the split run reports exactly the events of the whole run. Heap use must stay flat.
 *
 * Reproduce with `AVX_FUZZ_SEED=<seed>`; scale with `AVX_FUZZ_ITERATIONS=<n>` (default 200,000;
 * `AVX_LONG=1` runs ten times as many, with a fresh seed unless one is given). The inputs run in a
 * worker thread so that a parser stuck in a loop is detected and reported instead of hanging.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { H1ParseError } from '../../src/h1/h1-parse-error.js';
import { H1Parser } from '../../src/h1/h1-parser.js';
import {
  type H1MessageHead,
  type H1ParserHandler,
  type H1ParserOptions,
  H1ResponseBody,
} from '../../src/h1/h1-types.js';
import { seededRandom } from '../seeded-random.js';
import {
  firstEventDifference,
  type RecordedOutcome,
  type RecordOptions,
  recordRun,
  splitAt,
  splitBytewise,
} from './h1-event-log.js';

const DEFAULT_ITERATIONS = 200_000;
const DEFAULT_SEED = 0x5eed_2026;
/** A single input is allowed this long without the worker making progress before it is declared stuck. */
const STUCK_AFTER_MS = 30_000;
/** Heap growth tolerated over the run, after a full collection (bytes). */
const HEAP_GROWTH_LIMIT = 24 * 1024 * 1024;
const MAX_REPORTED_FAILURES = 12;

// ------------------------------------------------------------------------------------------------
// Deterministic randomness: every iteration has its own generator derived from (seed, iteration),
// so any single input can be rebuilt from the two numbers printed with a failure.

type Random = () => number;

function iterationRandom(seed: number, iteration: number): Random {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(iteration + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return seededRandom(h ^ (h >>> 16));
}

const int = (random: Random, n: number) => Math.floor(random() * n);
const pick = <T>(random: Random, items: readonly T[]): T => items[int(random, items.length)]!;

// ------------------------------------------------------------------------------------------------
// Valid messages to start from.

interface SeedMessage {
  name: string;
  kind: 'request' | 'response';
  bytes: Buffer;
  /** What the response handler's onHead returns (a response to HEAD, or to CONNECT). */
  headResult?: H1ResponseBody;
}

const crlf = (lines: string) => Buffer.from(lines.replace(/\n/g, '\r\n'), 'latin1');

const SEED_MESSAGES: readonly SeedMessage[] = [
  { name: 'small GET', kind: 'request', bytes: crlf('GET / HTTP/1.1\nHost: localhost\n\n') },
  {
    name: 'browser GET',
    kind: 'request',
    bytes: crlf(
      'GET /search?q=http%2F1.1&lang=en HTTP/1.1\nHost: www.example.com\n' +
        'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\n' +
        'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\n' +
        'Accept-Language: en-US,en;q=0.5\nAccept-Encoding: gzip, deflate, br\n' +
        'Cookie: session=abc123; theme=dark\nConnection: keep-alive\n\n',
    ),
  },
  {
    name: 'POST with Content-Length',
    kind: 'request',
    bytes: crlf(
      'POST /submit HTTP/1.1\nHost: a.example\nContent-Type: text/plain\nContent-Length: 11\n\nhello world',
    ),
  },
  {
    name: 'chunked POST with extensions and trailers',
    kind: 'request',
    bytes: crlf(
      'POST /upload HTTP/1.1\nHost: a.example\nTransfer-Encoding: gzip, chunked\nTrailer: X-Checksum\n\n' +
        '5;name=value\nhello\n6;quoted="a \\"b\\"";flag\n world\n0\nX-Checksum: abc\nX-Other: 1\n\n',
    ),
  },
  {
    name: 'pipelined GET and POST',
    kind: 'request',
    bytes: crlf(
      'GET /one HTTP/1.1\nHost: a\n\nPOST /two HTTP/1.1\nHost: a\nContent-Length: 3\nConnection: close\n\nabc',
    ),
  },
  {
    name: '100-continue PUT',
    kind: 'request',
    bytes: crlf('PUT /file HTTP/1.1\nHost: a\nExpect: 100-continue\nContent-Length: 4\n\nbody'),
  },
  {
    name: 'websocket upgrade with frame bytes after',
    kind: 'request',
    bytes: Buffer.concat([
      crlf(
        'GET /chat HTTP/1.1\nHost: a\nConnection: Upgrade\nUpgrade: websocket\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n\n',
      ),
      Buffer.from([0x81, 0x85, 1, 2, 3, 4, 0x69, 0x67, 0x6f, 0x68, 0x6e]),
    ]),
  },
  {
    name: 'CONNECT',
    kind: 'request',
    bytes: crlf('CONNECT example.com:443 HTTP/1.1\nHost: example.com:443\n\n\x16\x03\x01'),
  },
  {
    name: 'HTTP/1.0 keep-alive pair',
    kind: 'request',
    bytes: crlf('GET /a HTTP/1.0\nConnection: keep-alive\n\nGET /b HTTP/1.0\n\n'),
  },
  {
    name: '200 with Content-Length',
    kind: 'response',
    bytes: crlf('HTTP/1.1 200 OK\nContent-Length: 5\n\nhello'),
  },
  {
    name: 'chunked response with trailers',
    kind: 'response',
    bytes: crlf(
      'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\nTrailer: Expires\n\n4\nWiki\n5;ext=1\npedia\n0\nExpires: never\n\n',
    ),
  },
  {
    name: 'close-delimited response',
    kind: 'response',
    bytes: crlf(
      'HTTP/1.1 200 OK\nContent-Type: text/plain\nConnection: close\n\nbody until the connection closes',
    ),
  },
  {
    name: '100 Continue then 200',
    kind: 'response',
    bytes: crlf('HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok'),
  },
  {
    name: '101 Switching Protocols with data after',
    kind: 'response',
    bytes: Buffer.concat([
      crlf('HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nUpgrade: websocket\n\n'),
      Buffer.from([0x81, 0x02, 0x68, 0x69]),
    ]),
  },
  {
    name: '204 and 304 pipelined',
    kind: 'response',
    bytes: crlf(
      'HTTP/1.1 204 No Content\nDate: x\n\nHTTP/1.1 304 Not Modified\nETag: "1"\n\nHTTP/1.0 200 OK\n\nrest',
    ),
  },
  {
    name: 'response to HEAD',
    kind: 'response',
    bytes: crlf('HTTP/1.1 200 OK\nContent-Length: 1000\n\nHTTP/1.1 404 Not Found\nContent-Length: 0\n\n'),
    headResult: H1ResponseBody.None,
  },
  {
    name: 'response to CONNECT',
    kind: 'response',
    bytes: crlf('HTTP/1.1 200 Connection Established\nVia: proxy\n\n\x16\x03\x03'),
    headResult: H1ResponseBody.Tunnel,
  },
];

// ------------------------------------------------------------------------------------------------
// Mutations.

const INTERESTING_BYTES = [
  0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x3b, 0x3d, 0x22, 0x5c, 0x2c, 0x7f, 0x80, 0xff,
].concat([...'0123456789abcdefF'].map((c) => c.charCodeAt(0)));
const INTERESTING_SNIPPETS = [
  '\r\n',
  '\r\n\r\n',
  '\n',
  ' \r\n',
  '\r\n ',
  'ffffffffffffffffff',
  '99999999999999999999',
  '-1',
  '0x1',
  'Content-Length: 5\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Connection: close\r\n',
  'Connection: upgrade\r\nUpgrade: x\r\n',
  ';a=b',
  ' HTTP/1.1',
];

/** Byte ranges of the header lines (start line excluded) of the first head in `b`. */
function headerLines(b: Buffer): [number, number][] {
  const end = b.indexOf('\r\n\r\n');
  const lines: [number, number][] = [];
  let at = b.indexOf('\r\n');
  while (at !== -1 && at < end) {
    const next = b.indexOf('\r\n', at + 2);
    if (next === -1 || next > end) break;
    lines.push([at + 2, next + 2]);
    at = next;
  }
  return lines;
}

function mutateOnce(b: Buffer, random: Random): Buffer {
  const at = int(random, b.length + 1);
  switch (int(random, 9)) {
    case 0: {
      // flip bits of one byte
      if (b.length === 0) return b;
      const copy = Buffer.from(b);
      const i = int(random, b.length);
      copy[i] = copy[i]! ^ (1 + int(random, 255));
      return copy;
    }
    case 1:
    case 2: {
      // insert an interesting byte
      const byte = random() < 0.8 ? pick(random, INTERESTING_BYTES) : int(random, 256);
      return Buffer.concat([b.subarray(0, at), Buffer.from([byte]), b.subarray(at)]);
    }
    case 3: {
      // insert an interesting snippet
      return Buffer.concat([
        b.subarray(0, at),
        Buffer.from(pick(random, INTERESTING_SNIPPETS), 'latin1'),
        b.subarray(at),
      ]);
    }
    case 4: {
      // delete 1..4 bytes
      const n = 1 + int(random, 4);
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + n))]);
    }
    case 5:
      // truncate
      return b.subarray(0, at);
    case 6: {
      // duplicate a header line
      const lines = headerLines(b);
      if (lines.length === 0) return b;
      const [s, e] = pick(random, lines);
      return Buffer.concat([b.subarray(0, e), b.subarray(s, e), b.subarray(e)]);
    }
    case 7: {
      // copy a range of the message somewhere else (splice)
      const s = int(random, b.length + 1);
      const e = Math.min(b.length, s + 1 + int(random, 24));
      return Buffer.concat([b.subarray(0, at), b.subarray(s, e), b.subarray(at)]);
    }
    default: {
      // overwrite one byte with an interesting one
      if (b.length === 0) return b;
      const copy = Buffer.from(b);
      copy[int(random, b.length)] = pick(random, INTERESTING_BYTES);
      return copy;
    }
  }
}

/** The options variants inputs are parsed with. */
const OPTION_VARIANTS: readonly { name: string; options: H1ParserOptions }[] = [
  { name: 'default', options: {} },
  {
    name: 'small limits',
    options: { maxHeaderBytes: 96, maxHeaderCount: 4, maxUriLength: 16, maxChunkExtensionBytes: 8 },
  },
  {
    name: 'lenient all, any method',
    options: {
      acceptAnyMethod: true,
      lenient: {
        headers: true,
        headerValueRelaxed: true,
        chunkedLength: true,
        keepAlive: true,
        transferEncoding: true,
        version: true,
        dataAfterClose: true,
        optionalLfAfterCr: true,
        optionalCrBeforeLf: true,
        optionalCrlfAfterChunk: true,
        spacesAfterChunkSize: true,
      },
    },
  },
];

/** One fuzz input, rebuilt identically from (seed, iteration). */
export interface FuzzInput {
  seedMessage: SeedMessage;
  variant: (typeof OPTION_VARIANTS)[number];
  input: Buffer;
  finish: boolean;
  cuts: number[];
  bytewise: boolean;
}

export function makeFuzzInput(seed: number, iteration: number): FuzzInput {
  const random = iterationRandom(seed, iteration);
  const seedMessage = pick(random, SEED_MESSAGES);
  let input = seedMessage.bytes;
  const m = random();
  const mutations = m < 0.05 ? 0 : m < 0.55 ? 1 : 2 + int(random, 3);
  for (let m = 0; m < mutations; m++) input = mutateOnce(input, random);
  const r = random();
  const variant = r < 0.6 ? OPTION_VARIANTS[0]! : r < 0.8 ? OPTION_VARIANTS[1]! : OPTION_VARIANTS[2]!;
  const finish = random() < 0.5;
  const cuts: number[] = [];
  const ncuts = 1 + int(random, 6);
  for (let c = 0; c < ncuts; c++) cuts.push(int(random, input.length + 1));
  const bytewise = random() < 0.2;
  return { seedMessage, variant, input: Buffer.from(input), finish, cuts, bytewise };
}

/** Problems found with one input (empty: fine), and the whole-input outcome. */
export function checkFuzzInput(f: FuzzInput): { problems: string[]; whole: RecordedOutcome } {
  const problems: string[] = [];
  const recordOptions: RecordOptions = {
    finish: f.finish,
    onHeadResult: f.seedMessage.headResult,
    maxEvents: 4 * f.input.length + 64,
  };
  const make = (handler: H1ParserHandler<H1MessageHead>) =>
    new H1Parser(f.seedMessage.kind, handler, f.variant.options);
  const whole = recordRun(make, [f.input], recordOptions);
  if (whole.error !== null && !(whole.error.thrown instanceof H1ParseError)) {
    problems.push(`threw ${whole.error.name} (${whole.error.code}): ${whole.error.message}`);
  }
  if (whole.bodyBytes > f.input.length)
    problems.push(`${whole.bodyBytes} body bytes from a ${f.input.length}-byte input`);
  if (whole.consumed > f.input.length) problems.push(`consumed ${whole.consumed} of ${f.input.length} bytes`);
  const splits: [string, Buffer[]][] = [
    [`cut at [${[...f.cuts].sort((a, b) => a - b)}]`, splitAt(f.input, f.cuts)],
  ];
  if (f.bytewise) splits.push(['byte by byte', splitBytewise(f.input)]);
  for (const [how, pieces] of splits) {
    const split = recordRun(make, pieces, recordOptions);
    const diff = firstEventDifference(whole.events, split.events);
    if (diff !== null) problems.push(`${how} differs from the whole input at ${diff}`);
  }
  return { problems, whole };
}

function describeFailure(seed: number, iteration: number, problems: string[]): string {
  const f = makeFuzzInput(seed, iteration);
  return (
    `seed=0x${seed.toString(16)} iteration=${iteration} message="${f.seedMessage.name}" options="${f.variant.name}" ` +
    `finish=${f.finish}\n  input (hex): ${f.input.toString('hex')}\n  input (text): ${JSON.stringify(f.input.toString('latin1'))}\n  ` +
    problems.join('\n  ')
  );
}

// ------------------------------------------------------------------------------------------------
// The worker: runs the iterations, publishes progress, measures the heap.

interface WorkerInput {
  seed: number;
  iterations: number;
  progress: SharedArrayBuffer;
}

interface WorkerResult {
  failures: string[];
  failureCount: number;
  errors: number;
  upgrades: number;
  completedMessages: number;
  heapBefore: number;
  heapAfter: number;
}

function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  return typeof gc === 'function' ? gc : () => {};
}

function runWorker(data: WorkerInput): WorkerResult {
  const progress = new Int32Array(data.progress);
  const gc = collectGarbage();
  const failures: string[] = [];
  let failureCount = 0;
  let errors = 0;
  let upgrades = 0;
  let completedMessages = 0;
  let heapBefore = 0;
  const warmUp = Math.min(10_000, Math.floor(data.iterations / 10));
  for (let i = 0; i < data.iterations; i++) {
    Atomics.store(progress, 0, i);
    if (i === warmUp) {
      gc();
      heapBefore = getHeapStatistics().used_heap_size;
    }
    let problems: string[];
    try {
      const checked = checkFuzzInput(makeFuzzInput(data.seed, i));
      problems = checked.problems;
      const whole = checked.whole;
      if (whole.error !== null) errors++;
      if (whole.upgraded) upgrades++;
      completedMessages += whole.messages.filter((m) => m.complete).length;
    } catch (e) {
      problems = [`the harness itself threw: ${(e as Error).stack ?? String(e)}`];
    }
    if (problems.length > 0) {
      failureCount++;
      if (failures.length < MAX_REPORTED_FAILURES) failures.push(describeFailure(data.seed, i, problems));
    }
  }
  Atomics.store(progress, 0, data.iterations);
  gc();
  const heapAfter = getHeapStatistics().used_heap_size;
  return { failures, failureCount, errors, upgrades, completedMessages, heapBefore, heapAfter };
}

// ------------------------------------------------------------------------------------------------
// The tests.

function fuzzSettings(): { seed: number; iterations: number } {
  const long = process.env.AVX_LONG === '1';
  const seedText = process.env.AVX_FUZZ_SEED;
  const seed =
    seedText !== undefined && seedText !== ''
      ? Number(seedText) >>> 0
      : long
        ? (Date.now() ^ (process.pid << 16)) >>> 0
        : DEFAULT_SEED;
  const iterText = process.env.AVX_FUZZ_ITERATIONS;
  const base = iterText !== undefined && iterText !== '' ? Number(iterText) : DEFAULT_ITERATIONS;
  if (!Number.isFinite(seed) || !Number.isInteger(base) || base < 1) {
    throw new Error('AVX_FUZZ_SEED must be a number and AVX_FUZZ_ITERATIONS a positive integer');
  }
  return { seed, iterations: long ? base * 10 : base };
}

if (!isMainThread && (workerData as { fuzz?: unknown } | null)?.fuzz === true) {
  parentPort!.postMessage(runWorker(workerData as WorkerInput));
} else if (isMainThread) {
  test('H1Parser survives mutated input: H1ParseError or success, identical however split', async (t) => {
    const { seed, iterations } = fuzzSettings();
    const banner = `h1 fuzz: seed=0x${seed.toString(16)} iterations=${iterations} (reproduce with AVX_FUZZ_SEED=0x${seed.toString(16)})`;
    console.log(banner);
    t.diagnostic(banner);
    const progressBuffer = new SharedArrayBuffer(4);
    const progress = new Int32Array(progressBuffer);
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { fuzz: true, seed, iterations, progress: progressBuffer },
    });
    const result = await new Promise<WorkerResult>((resolve, reject) => {
      let last = -1;
      let lastChange = Date.now();
      const watchdog = setInterval(() => {
        const now = Atomics.load(progress, 0);
        if (now !== last) {
          last = now;
          lastChange = Date.now();
        } else if (Date.now() - lastChange > STUCK_AFTER_MS) {
          clearInterval(watchdog);
          void worker.terminate();
          reject(
            new Error(`the parser made no progress on one input:\n${describeFailure(seed, now, ['stuck'])}`),
          );
        }
      }, 1000);
      worker.once('message', (r: WorkerResult) => {
        clearInterval(watchdog);
        resolve(r);
      });
      worker.once('error', (e) => {
        clearInterval(watchdog);
        reject(e);
      });
    });
    await worker.terminate();
    const growth = result.heapAfter - result.heapBefore;
    const summary =
      `h1 fuzz: ${iterations} inputs, ${result.errors} rejected with H1ParseError, ${result.upgrades} switched protocols, ` +
      `${result.completedMessages} messages completed, ${result.failureCount} failures; heap ${(result.heapBefore / 1048576).toFixed(1)} MB -> ` +
      `${(result.heapAfter / 1048576).toFixed(1)} MB`;
    console.log(summary);
    t.diagnostic(summary);
    assert.equal(
      result.failureCount,
      0,
      `${result.failureCount} failing inputs; first ones:\n${result.failures.join('\n')}`,
    );
    assert.ok(growth < HEAP_GROWTH_LIMIT, `heap grew by ${(growth / 1048576).toFixed(1)} MB over the run`);
    // The mutations must exercise both outcomes, or the fuzzer is not testing anything.
    assert.ok(result.errors > iterations / 10, 'too few inputs were rejected');
    assert.ok(result.completedMessages > iterations / 10, 'too few messages completed');
  });

  test('H1Parser memory stays bounded on one long connection with ever-new header names', (t) => {
    const gc = collectGarbage();
    const completed: number[] = [0];
    const parser = new H1Parser('request', {
      onHead() {},
      onBody() {},
      onTrailers() {},
      onMessageComplete() {
        completed[0]!++;
      },
    });
    const batch = (from: number) => {
      const parts: string[] = [];
      for (let i = from; i < from + 1000; i++) {
        parts.push(
          `POST /item/${i} HTTP/1.1\r\nHost: a\r\nX-Unique-${i.toString(36)}: v${i}\r\nContent-Length: 2\r\n\r\nok`,
        );
      }
      return Buffer.from(parts.join(''), 'latin1');
    };
    for (let i = 0; i < 20_000; i += 1000) parser.execute(batch(i));
    gc();
    const before = getHeapStatistics().used_heap_size;
    for (let i = 20_000; i < 220_000; i += 1000) parser.execute(batch(i));
    gc();
    const growth = getHeapStatistics().used_heap_size - before;
    t.diagnostic(`heap growth over 200,000 messages: ${(growth / 1048576).toFixed(2)} MB`);
    assert.equal(completed[0], 220_000);
    assert.ok(
      growth < 8 * 1024 * 1024,
      `heap grew by ${(growth / 1048576).toFixed(1)} MB over 200,000 messages`,
    );
  });
}
