/**
 * Benchmark of route matching on a GitHub-API-like table of 346 patterns, 529 method + pattern
 * routes (test/server/router/github-route-table.ts): our RadixRouter against find-my-way (fastify's
 * router, a devDependency; tree walk and, where the version has it, `compile()`d) and a naive
 * linear regex-per-route router. Every contender resolves the same request mix: one path per
 * route with its method (static, parameter and wildcard routes, 1 to 4 parameters), plus one
 * miss for every ten hits. All contenders must agree on every answer before they are timed.
 *
 * Contenders alternate in timed slices over several rounds (the order reversed every round);
 * the median lookups per second is reported with the ratios against RadixRouter.
 * Run: `npx tsc -p . && node dist/bench/router.js` (about 15 s).
 */
import { RadixRouter } from '../src/server/router/radix-router.js';
import { GITHUB_ROUTES, samplePath } from '../test/server/router/github-route-table.js';
import { LinearRegexRouter } from '../test/server/router/linear-regex-router.js';

const ROUNDS = 7;
const SLICE_MS = 300;

interface Lookup {
  method: string;
  path: string;
}

/** A router under test: `find` returns the route id (`"METHOD pattern"`) and params, or null. */
interface Contender {
  name: string;
  find(method: string, path: string): { id: string; params: Record<string, string | undefined> } | null;
}

function lookups(): Lookup[] {
  const value = (name: string, index: number): string =>
    name === '*' ? `src/dir${index}/file.ts` : `v${index}x`;
  const out: Lookup[] = [];
  GITHUB_ROUTES.forEach(({ method, pattern }, i) => {
    out.push({ method, path: samplePath(pattern, value) });
    if (i % 10 === 0) out.push({ method, path: `${samplePath(pattern, value)}/nope/${i}` });
  });
  return out;
}

function radixContender(): Contender {
  const router = new RadixRouter<string>();
  for (const { method, pattern } of GITHUB_ROUTES) router.add(method, pattern, `${method} ${pattern}`);
  return {
    name: 'avx RadixRouter',
    find(method, path) {
      const m = router.match(method, path);
      return m === null ? null : { id: m.handler, params: m.params };
    },
  };
}

function linearContender(): Contender {
  const router = new LinearRegexRouter<string>();
  for (const { method, pattern } of GITHUB_ROUTES) router.add(method, pattern, `${method} ${pattern}`);
  return {
    name: 'linear regex',
    find(method, path) {
      const m = router.match(method, path);
      return m === null ? null : { id: m.handler, params: m.params };
    },
  };
}

interface FindMyWayInstance {
  on(method: string, path: string, handler: () => void, store: unknown): void;
  find(method: string, path: string): { params: Record<string, string | undefined>; store: string } | null;
  compile?: () => unknown;
}

/** find-my-way contenders, or [] when the package is not installed. */
async function findMyWayContenders(): Promise<Contender[]> {
  let factory: (options?: object) => FindMyWayInstance;
  let version = '?';
  try {
    const moduleName = 'find-my-way'; // a variable: the benchmark still compiles without the package
    const mod = (await import(moduleName)) as { default: (options?: object) => FindMyWayInstance };
    factory = mod.default;
    const { createRequire } = await import('node:module');
    version = (createRequire(import.meta.url)('find-my-way/package.json') as { version: string }).version;
  } catch {
    console.log('find-my-way is not installed: skipping it (npm install -D find-my-way)');
    return [];
  }
  const make = (compiled: boolean): Contender | null => {
    const router = factory();
    const handler = () => {};
    for (const { method, pattern } of GITHUB_ROUTES)
      router.on(method, pattern, handler, `${method} ${pattern}`);
    if (compiled) {
      if (typeof router.compile !== 'function') return null;
      router.compile();
    }
    return {
      name: `find-my-way ${version}${compiled ? ' compiled' : ''}`,
      find(method, path) {
        const m = router.find(method, path);
        return m === null ? null : { id: m.store, params: m.params };
      },
    };
  };
  return [make(false), make(true)].filter((c): c is Contender => c !== null);
}

/** Every contender must give the same answer for every lookup. */
function checkAgreement(contenders: readonly Contender[], mix: readonly Lookup[]): void {
  let hits = 0;
  for (const { method, path } of mix) {
    const answers = contenders.map((c) => {
      const m = c.find(method, path);
      return m === null ? 'null' : JSON.stringify([m.id, { ...m.params }]);
    });
    if (new Set(answers).size !== 1) {
      throw new Error(
        `contenders disagree on ${method} ${path}:\n${contenders.map((c, i) => `  ${c.name}: ${answers[i]}`).join('\n')}`,
      );
    }
    if (answers[0] !== 'null') hits++;
  }
  if (hits === 0) throw new Error('no lookup matched: the benchmark would measure nothing');
}

let sink = 0;

/** Lookups per second over about `ms` milliseconds. */
function measure(contender: Contender, mix: readonly Lookup[], ms: number): number {
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(ms) * 1_000_000n;
  let now = start;
  let count = 0;
  do {
    for (let i = 0; i < mix.length; i++) {
      const { method, path } = mix[i]!;
      if (contender.find(method, path) !== null) sink++;
    }
    count += mix.length;
    now = process.hrtime.bigint();
  } while (now < deadline);
  return count / (Number(now - start) / 1e9);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const mix = lookups();
  const contenders = [radixContender(), ...(await findMyWayContenders()), linearContender()];
  checkAgreement(contenders, mix);
  console.log(
    `router benchmark: node ${process.version}, ${GITHUB_ROUTES.length} routes, ${mix.length} lookups per pass ` +
      `(${mix.length - GITHUB_ROUTES.length} misses), ${ROUNDS} rounds x ${SLICE_MS} ms per contender`,
  );
  for (const c of contenders) measure(c, mix, 100); // warm up
  const rates = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse();
    for (const c of order) rates.get(c.name)!.push(measure(c, mix, SLICE_MS));
  }
  const ours = median(rates.get(contenders[0]!.name)!);
  for (const c of contenders) {
    const rate = median(rates.get(c.name)!);
    const ratio = c === contenders[0] ? '' : `  (avx / this = ${(ours / rate).toFixed(2)})`;
    console.log(`  ${c.name.padEnd(28)} ${fmt(rate).padStart(12)} lookups/s${ratio}`);
  }
  if (sink === 0) console.log('');
}

await main();
