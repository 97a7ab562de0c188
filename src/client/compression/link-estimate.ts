/**
 * LinkEstimates: what the client has seen of the network path to each origin, for choosing how
 * hard to compress what it sends there (request-compression-policy.ts).
 *
 * Measured from exchanges, not probed: for every request, the time from handing it to the
 * connection to the response head. Requests with small bodies give the base latency (the least
 * such time seen, a round trip plus the server's time); requests that sent many bytes give an
 * upload throughput sample, `bytes / (time - base latency)`, kept as an exponentially weighted
 * average so that one slow exchange does not swing the choice. Bounded: at most `maxOrigins`
 * origins, the least recently used forgotten first.
 */

/** What is known of the path to one origin. */
export interface LinkSample {
  /** Upload throughput, bytes per second; undefined until a large enough body was sent. */
  readonly throughput: number | undefined;
  /** The least time to a response head seen, ms (round trip plus server time). */
  readonly baseLatencyMs: number | undefined;
  /** Throughput samples taken. */
  readonly samples: number;
}

/** Options of {@link LinkEstimates}. */
export interface LinkEstimatesOptions {
  /** Origins remembered. Default 256. */
  maxOrigins?: number;
  /** Bodies of at least this many bytes (as sent) give a throughput sample. Default 16384. */
  minSampleBytes?: number;
  /** Weight of a new throughput sample in the average, 0..1. Default 0.3. */
  weight?: number;
}

class OriginLink implements LinkSample {
  throughput: number | undefined = undefined;
  baseLatencyMs: number | undefined = undefined;
  samples = 0;
}

/** Per-origin link estimates (see the file comment). */
export class LinkEstimates {
  readonly #links = new Map<string, OriginLink>();
  readonly #maxOrigins: number;
  readonly #minSampleBytes: number;
  readonly #weight: number;

  constructor(options: LinkEstimatesOptions = {}) {
    this.#maxOrigins = options.maxOrigins ?? 256;
    this.#minSampleBytes = options.minSampleBytes ?? 16_384;
    this.#weight = options.weight ?? 0.3;
  }

  /** What is known of `origin`, or undefined. */
  get(origin: string): LinkSample | undefined {
    return this.#links.get(origin);
  }

  /** Number of origins remembered. */
  get size(): number {
    return this.#links.size;
  }

  /**
   * Notes an exchange with `origin`: `sentBytes` of body went out and the response head came
   * `elapsedMs` after the request was handed to the connection.
   */
  observe(origin: string, sentBytes: number, elapsedMs: number): void {
    let link = this.#links.get(origin);
    if (link === undefined) {
      if (this.#links.size >= this.#maxOrigins) {
        const oldest = this.#links.keys().next().value as string;
        this.#links.delete(oldest);
      }
      link = new OriginLink();
    } else {
      this.#links.delete(origin); // re-inserted below: the map's order is recency
    }
    this.#links.set(origin, link);
    if (!(elapsedMs >= 0)) return;
    if (sentBytes < this.#minSampleBytes) {
      if (link.baseLatencyMs === undefined || elapsedMs < link.baseLatencyMs) link.baseLatencyMs = elapsedMs;
      return;
    }
    // The part of the time the bytes took: what is left after the base latency (at least 1 ms,
    // so a path faster than the clock's resolution reads as very fast, not infinite).
    const transferMs = Math.max(1, elapsedMs - (link.baseLatencyMs ?? 0));
    const sample = (sentBytes * 1000) / transferMs;
    link.throughput =
      link.throughput === undefined ? sample : link.throughput + this.#weight * (sample - link.throughput);
    link.samples++;
  }

  /** Sets what is known of `origin`: for a known link, or for tests. */
  set(origin: string, throughput: number | undefined, baseLatencyMs?: number): void {
    const link = new OriginLink();
    link.throughput = throughput;
    link.baseLatencyMs = baseLatencyMs;
    this.#links.delete(origin);
    this.#links.set(origin, link);
  }
}
