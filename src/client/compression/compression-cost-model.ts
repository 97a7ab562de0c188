/**
 * CompressionCostModel: how long compressing `n` bytes at a level takes and how many bytes come
 * out, per coding, so that a level can be chosen for the link a body is about to cross.
 *
 * For a body of `n` bytes and an upload throughput `T` (bytes/s), sending it at level `L` takes
 * about `n / speed(L) * cpuWeight + n * ratio(L) / T`, and sending it as it is `n / T`. The level
 * with the least time wins: on a fast link (a data centre, loopback) compressing costs more than
 * it saves and the body goes as it is or at level 1; on a slow link (mobile, a far region) the
 * strongest levels pay for themselves.
 *
 * Speeds and ratios start from a table (typical for text and JSON on one core of a current
 * server) and are corrected as the client compresses: each measured compression scales every
 * level of its coding by one speed factor (this machine against the table) and one ratio factor
 * (this traffic against the table), both averaged, so the table's shape is kept and the model
 * holds two numbers per coding.
 */

/** A coding the client can compress request bodies with. */
export type RequestCoding = 'gzip' | 'br';

/** Typical cost of a level: input bytes per second, and output bytes per input byte. */
interface LevelCost {
  readonly level: number;
  readonly speed: number;
  readonly ratio: number;
}

const MB = 1_000_000;
/** gzip levels 1..9 (zlib) and brotli qualities 0..11: a few representative ones. */
const LEVELS: Readonly<Record<RequestCoding, readonly LevelCost[]>> = {
  gzip: [
    { level: 1, speed: 90 * MB, ratio: 0.3 },
    { level: 4, speed: 55 * MB, ratio: 0.27 },
    { level: 6, speed: 30 * MB, ratio: 0.25 },
    { level: 9, speed: 12 * MB, ratio: 0.245 },
  ],
  br: [
    { level: 1, speed: 120 * MB, ratio: 0.3 },
    { level: 4, speed: 45 * MB, ratio: 0.24 },
    { level: 7, speed: 14 * MB, ratio: 0.215 },
    { level: 11, speed: 0.6 * MB, ratio: 0.185 },
  ],
};

/** The chosen way to send a body: a level, or 0 for as it is. */
export interface CompressionChoice {
  /** The level (gzip) or quality (br); 0 means do not compress. */
  readonly level: number;
  /** The predicted time to compress and send, ms. */
  readonly predictedMs: number;
}

/** Per-coding corrections learned from measured compressions. */
class CodingCorrection {
  speedFactor = 1;
  ratioFactor = 1;
  samples = 0;
}

/** The cost model (see the file comment). */
export class CompressionCostModel {
  readonly #corrections: Record<RequestCoding, CodingCorrection> = {
    gzip: new CodingCorrection(),
    br: new CodingCorrection(),
  };
  readonly #cpuWeight: number;
  readonly #weight: number;

  /**
   * @param cpuWeight How much a millisecond of compressing counts against one of sending:
   *   above 1 on a client whose CPU is the scarcer resource. Default 1.
   * @param weight Weight of a new measurement in the corrections, 0..1. Default 0.2.
   */
  constructor(cpuWeight = 1, weight = 0.2) {
    this.#cpuWeight = cpuWeight;
    this.#weight = weight;
  }

  /** The levels considered for `coding`. */
  levels(coding: RequestCoding): number[] {
    return LEVELS[coding].map((c) => c.level);
  }

  /** The level to send `size` bytes at over a link of `throughput` bytes per second. */
  choose(coding: RequestCoding, size: number, throughput: number): CompressionChoice {
    let best: CompressionChoice = { level: 0, predictedMs: (size * 1000) / throughput };
    const correction = this.#corrections[coding];
    for (const cost of LEVELS[coding]) {
      const compressMs = (size * 1000 * this.#cpuWeight) / (cost.speed * correction.speedFactor);
      const sendMs = (size * cost.ratio * correction.ratioFactor * 1000) / throughput;
      const predictedMs = compressMs + sendMs;
      if (predictedMs < best.predictedMs) best = { level: cost.level, predictedMs };
    }
    return best;
  }

  /** Notes a measured compression: `inBytes` became `outBytes` in `ms` at `level` of `coding`. */
  observe(coding: RequestCoding, level: number, inBytes: number, outBytes: number, ms: number): void {
    const cost = LEVELS[coding].find((c) => c.level === level);
    if (cost === undefined || inBytes < 1024 || !(ms > 0)) return;
    const correction = this.#corrections[coding];
    const speedFactor = (inBytes * 1000) / ms / cost.speed;
    const ratioFactor = outBytes / inBytes / cost.ratio;
    const w = correction.samples === 0 ? 1 : this.#weight;
    correction.speedFactor += w * (speedFactor - correction.speedFactor);
    correction.ratioFactor += w * (ratioFactor - correction.ratioFactor);
    correction.samples++;
  }

  /** The learned corrections of `coding` (1 and 1 before any measurement). */
  correction(coding: RequestCoding): { speedFactor: number; ratioFactor: number; samples: number } {
    const c = this.#corrections[coding];
    return { speedFactor: c.speedFactor, ratioFactor: c.ratioFactor, samples: c.samples };
  }
}
