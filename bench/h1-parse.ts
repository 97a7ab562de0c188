/**
 * Benchmark of the HTTP/1.1 request parser: our `H1Parser` against Node's own llhttp (through the
 * `HTTPParser` binding that `node:http` uses), on the same machine in the same run. Three messages
 * (a small GET, a browser-like GET with a dozen headers, a chunked POST of about 1 KiB), each
 * parsed over and over on one keep-alive parser, in two shapes: one message per `execute` call,
 * and 64 pipelined messages per call. Both contenders materialise the same information: method,
 * URL, version, every header name and value as strings, and the body chunks.
 *
 * Contenders alternate in short timed slices over several rounds; the median rate is reported.
 * Run with `npm run bench` (or `node dist/bench/h1-parse.js`); about half a minute.
 */
import { H1Parser } from '../src/h1/h1-parser.js';
import type { H1MessageHead, H1ParserHandler } from '../src/h1/h1-types.js';
import { LlhttpNodeParser, llhttpVersion } from '../test/h1/llhttp-node-adapter.js';

const ROUNDS = 5;
const SLICE_MS = 250;
const PIPELINE_DEPTH = 64;

const crlf = (text: string) => Buffer.from(text.replace(/\n/g, '\r\n'), 'latin1');

function chunkedPost(): Buffer {
  const pieces = [300, 280, 250, 194].map(
    (n, i) => `${n.toString(16)}\n${String.fromCharCode(97 + i).repeat(n)}\n`,
  );
  return crlf(
    `POST /api/upload HTTP/1.1\nHost: api.example.com\nContent-Type: application/octet-stream\n` +
      `Transfer-Encoding: chunked\n\n${pieces.join('')}0\n\n`,
  );
}

const MESSAGES: readonly { name: string; bytes: Buffer }[] = [
  { name: 'small GET', bytes: crlf('GET / HTTP/1.1\nHost: localhost\n\n') },
  {
    name: 'browser GET (13 headers)',
    bytes: crlf(
      'GET /articles/2024/http-parsing?ref=home HTTP/1.1\n' +
        'Host: www.example.com\n' +
        'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36\n' +
        'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\n' +
        'Accept-Language: en-US,en;q=0.9\n' +
        'Accept-Encoding: gzip, deflate, br, zstd\n' +
        'Referer: https://www.example.com/\n' +
        'Cookie: session=4f1c2a9e8b7d6c5b; theme=dark; _ga=GA1.1.123456789.1700000000\n' +
        'Connection: keep-alive\n' +
        'Upgrade-Insecure-Requests: 1\n' +
        'Sec-Fetch-Dest: document\n' +
        'Sec-Fetch-Mode: navigate\n' +
        'Sec-Fetch-Site: same-origin\n' +
        'Cache-Control: max-age=0\n\n',
    ),
  },
  { name: 'chunked POST (1 KiB)', bytes: chunkedPost() },
];

/** Counts what a parser reports, keeping the last head so nothing is optimised away. */
class CountingHandler implements H1ParserHandler<H1MessageHead> {
  messages = 0;
  bodyBytes = 0;
  headerStrings = 0;
  lastHead: H1MessageHead | null = null;

  onHead(head: H1MessageHead): undefined {
    this.lastHead = head;
    this.headerStrings += head.headers.length;
    return undefined;
  }
  onBody(chunk: Buffer): void {
    this.bodyBytes += chunk.length;
  }
  onTrailers(): void {}
  onMessageComplete(): void {
    this.messages++;
  }
}

interface Contender {
  name: string;
  make(handler: CountingHandler): { execute(buf: Buffer): number };
}

const CONTENDERS: readonly Contender[] = [
  { name: 'ours', make: (handler) => new H1Parser('request', handler) },
  { name: 'llhttp', make: (handler) => new LlhttpNodeParser('request', handler) },
];

/** Messages per second parsing `input` (holding `perInput` messages) for about `ms` milliseconds. */
function measure(contender: Contender, input: Buffer, perInput: number, ms: number): number {
  const handler = new CountingHandler();
  const parser = contender.make(handler);
  const batch = Math.max(1, Math.floor(2048 / perInput));
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  let inputs = 0;
  do {
    for (let i = 0; i < batch; i++) parser.execute(input);
    inputs += batch;
    now = process.hrtime.bigint();
  } while (now < deadline);
  if (handler.messages !== inputs * perInput) {
    throw new Error(
      `${contender.name} completed ${handler.messages} messages, expected ${inputs * perInput}`,
    );
  }
  return (inputs * perInput) / (Number(now - start) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Both contenders must see the same message before they are timed. */
function checkSameResult(bytes: Buffer): void {
  const seen = CONTENDERS.map((c) => {
    const handler = new CountingHandler();
    c.make(handler).execute(bytes);
    const h = handler.lastHead as (H1MessageHead & { method?: string; url?: string }) | null;
    return JSON.stringify([
      handler.messages,
      handler.bodyBytes,
      h?.method,
      h?.url,
      h?.headers,
      h?.versionMinor,
    ]);
  });
  if (new Set(seen).size !== 1) throw new Error(`contenders disagree on the message:\n${seen.join('\n')}`);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function main(): void {
  console.log(
    `h1 parse benchmark: node ${process.version}, llhttp ${llhttpVersion}, ${ROUNDS} rounds x ${SLICE_MS} ms per contender`,
  );
  for (const message of MESSAGES) {
    checkSameResult(message.bytes);
    const pipelined = Buffer.concat(Array.from({ length: PIPELINE_DEPTH }, () => message.bytes));
    for (const [shape, input, perInput] of [
      ['one message per execute', message.bytes, 1],
      [`${PIPELINE_DEPTH} pipelined per execute`, pipelined, PIPELINE_DEPTH],
    ] as const) {
      for (const c of CONTENDERS) measure(c, input, perInput, 50); // warm up
      const rates = new Map<string, number[]>(CONTENDERS.map((c) => [c.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
        for (const c of order) rates.get(c.name)!.push(measure(c, input, perInput, SLICE_MS));
      }
      const ours = median(rates.get('ours')!);
      const llhttp = median(rates.get('llhttp')!);
      const mbps = (rate: number) => ((rate * message.bytes.length) / 1e6).toFixed(1);
      console.log(
        `${message.name}, ${message.bytes.length} B, ${shape}: ours ${fmt(ours)} req/s (${mbps(ours)} MB/s), ` +
          `llhttp ${fmt(llhttp)} req/s (${mbps(llhttp)} MB/s), ratio ours/llhttp = ${(ours / llhttp).toFixed(2)}`,
      );
    }
  }
}

main();
