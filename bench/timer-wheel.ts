/**
 * Benchmark: 100k TimerWheel timers against 100k Node `setTimeout` timers, in the pattern the
 * HTTP layers produce: a timeout is scheduled per connection or request and then cancelled (or
 * pushed back, then cancelled) long before it expires. Wheel and setTimeout runs alternate within
 * each round; the report gives medians of the time taken and of the heap held by the 100k pending
 * timers (when a `gc` function is available: `--expose-gc`, else enabled through V8 flags).
 *
 * Run: node scripts/setup.mjs && node dist/bench/timer-wheel.js
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type TimerHandle, TimerWheel } from '../src/runtime/timer-wheel.js';

const COUNT = 100_000;
const WARMUP_ROUNDS = 2;
const ROUNDS = 9;
/** Typical server timeout: far enough that nothing fires during a run. */
const DELAY_MS = 30_000;

type Gc = () => void;

function findGc(): Gc | undefined {
  const exposed = (globalThis as { gc?: Gc }).gc;
  if (typeof exposed === 'function') return exposed;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as Gc) : undefined;
  } catch {
    return undefined;
  }
}

const gc = findGc();

function onTimeout(_index: number): void {
  throw new Error('a benchmark timer fired: the run took longer than the timer delay');
}

/** Delay of timer `i`: one value for all, or a spread of distinct values from 1 s to 60 s. */
function delayOf(i: number, varied: boolean): number {
  return varied ? 1000 + ((i * 7919) % 59_000) : DELAY_MS;
}

interface Sample {
  ms: number;
  heapBytes: number;
}

interface Scenario {
  name: string;
  reschedule: boolean;
  varied: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'schedule+cancel 100k', reschedule: false, varied: false },
  { name: 'schedule+reschedule+cancel 100k', reschedule: true, varied: false },
  { name: 'schedule+cancel 100k, delays 1..60 s', reschedule: false, varied: true },
];

const wheel = new TimerWheel();
const handles: (TimerHandle | undefined)[] = new Array(COUNT).fill(undefined);
const timeouts: (ReturnType<typeof setTimeout> | undefined)[] = new Array(COUNT).fill(undefined);

/** Heap in use after a full collection, or 0 without a gc function. */
function settledHeap(): number {
  if (gc === undefined) return 0;
  gc();
  return process.memoryUsage().heapUsed;
}

function runWheel(scenario: Scenario): Sample {
  const heapBefore = settledHeap();
  let start = performance.now();
  for (let i = 0; i < COUNT; i++) handles[i] = wheel.schedule(delayOf(i, scenario.varied), onTimeout, i);
  if (scenario.reschedule) for (let i = 0; i < COUNT; i++) handles[i]!.refresh();
  let ms = performance.now() - start;
  const heapBytes = settledHeap() - heapBefore;
  start = performance.now();
  for (let i = 0; i < COUNT; i++) wheel.cancel(handles[i]!);
  ms += performance.now() - start;
  if (wheel.size !== 0) throw new Error('wheel not empty after cancelling every timer');
  handles.fill(undefined);
  return { ms, heapBytes };
}

function runSetTimeout(scenario: Scenario): Sample {
  const heapBefore = settledHeap();
  let start = performance.now();
  for (let i = 0; i < COUNT; i++) timeouts[i] = setTimeout(onTimeout, delayOf(i, scenario.varied), i);
  if (scenario.reschedule) for (let i = 0; i < COUNT; i++) timeouts[i]!.refresh();
  let ms = performance.now() - start;
  const heapBytes = settledHeap() - heapBefore;
  start = performance.now();
  for (let i = 0; i < COUNT; i++) clearTimeout(timeouts[i]);
  ms += performance.now() - start;
  timeouts.fill(undefined);
  return { ms, heapBytes };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}

function main(): void {
  console.log(
    `timer-wheel benchmark: ${COUNT} timers, ${ROUNDS} rounds (+${WARMUP_ROUNDS} warm-up), node ${process.version}` +
      (gc === undefined ? ', no gc function: heap figures skipped' : ''),
  );
  let wheelLost = false;
  for (const scenario of SCENARIOS) {
    const wheelSamples: Sample[] = [];
    const nativeSamples: Sample[] = [];
    for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
      // Alternate which side runs first so neither always inherits the other's garbage.
      const wheelFirst = round % 2 === 0;
      const a = wheelFirst ? runWheel(scenario) : runSetTimeout(scenario);
      const b = wheelFirst ? runSetTimeout(scenario) : runWheel(scenario);
      if (round < WARMUP_ROUNDS) continue;
      wheelSamples.push(wheelFirst ? a : b);
      nativeSamples.push(wheelFirst ? b : a);
    }
    const wheelMs = median(wheelSamples.map((s) => s.ms));
    const nativeMs = median(nativeSamples.map((s) => s.ms));
    const speed =
      wheelMs <= nativeMs
        ? `${(nativeMs / wheelMs).toFixed(1)}x faster`
        : `${(wheelMs / nativeMs).toFixed(1)}x SLOWER`;
    if (wheelMs > nativeMs) wheelLost = true;
    let line =
      `timer-wheel vs setTimeout: ${scenario.name}: ${speed} ` +
      `(median ${wheelMs.toFixed(2)} ms vs ${nativeMs.toFixed(2)} ms)`;
    if (gc !== undefined) {
      const wheelHeap = median(wheelSamples.map((s) => s.heapBytes));
      const nativeHeap = median(nativeSamples.map((s) => s.heapBytes));
      line +=
        `; heap held while pending: ${megabytes(wheelHeap)} vs ${megabytes(nativeHeap)} ` +
        `(${(nativeHeap / wheelHeap).toFixed(1)}x less)`;
    }
    console.log(line);
  }
  wheel.close();
  if (wheelLost) {
    console.error('FAIL: 100k wheel timers must cost less than 100k setTimeout timers');
    process.exitCode = 1;
  }
}

main();
