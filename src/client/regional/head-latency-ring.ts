/**
 * Recent response-head latencies of one region, for hedging with `afterMs: 'auto'`: a fixed-size
 * ring of the last N samples plus the same samples kept sorted, both in preallocated
 * `Float64Array`s. Recording shifts at most N numbers and allocates nothing; reading a percentile
 * (nearest-rank) is one index.
 */
export class HeadLatencyRing {
  readonly #ring: Float64Array;
  readonly #sorted: Float64Array;
  #count = 0;
  #next = 0;

  /** `size` is the number of samples kept (>= 1). */
  constructor(size: number) {
    this.#ring = new Float64Array(size);
    this.#sorted = new Float64Array(size);
  }

  /** Samples held (at most the ring size). */
  get count(): number {
    return this.#count;
  }

  /** Adds a latency in ms, dropping the oldest when the ring is full. */
  record(ms: number): void {
    const ring = this.#ring;
    const sorted = this.#sorted;
    let count = this.#count;
    if (count === ring.length) {
      const old = ring[this.#next]!;
      let i = 0;
      while (i < count - 1 && sorted[i] !== old) i++;
      for (; i < count - 1; i++) sorted[i] = sorted[i + 1]!;
      count--;
    }
    let j = count;
    while (j > 0 && sorted[j - 1]! > ms) {
      sorted[j] = sorted[j - 1]!;
      j--;
    }
    sorted[j] = ms;
    ring[this.#next] = ms;
    this.#next = (this.#next + 1) % ring.length;
    this.#count = count + 1;
  }

  /** The nearest-rank percentile `p` (0 < p <= 1) of the samples held, or NaN when there are none. */
  percentile(p: number): number {
    const count = this.#count;
    if (count === 0) return Number.NaN;
    const rank = Math.min(count, Math.max(1, Math.ceil(p * count)));
    return this.#sorted[rank - 1]!;
  }
}
