/**
 * Heap measurement for leak tests: a full garbage collection on demand (enabling V8's `gc`
 * for this process when it was not started with --expose-gc), then the used heap size.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Bytes of heap in use after a full collection. */
export async function heapAfterGc(): Promise<number> {
  // Let pending closes and timers run first, then collect twice (weak callbacks, then the rest).
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  return process.memoryUsage().heapUsed;
}
