/**
 * A token bucket for flood limits (RFC 9113 §10.5: "an endpoint MAY treat activity that is
 * suspicious as a connection error of type ENHANCE_YOUR_CALM"): `burst` events at once and
 * `ratePerSecond` on average. Time is an input (milliseconds from any monotonic clock), so
 * the limits are testable without timers.
 */

/** A rate limit that allows bursts. */
export class TokenBucket {
  private tokens: number;
  private last = Number.NaN;
  private readonly rate: number;
  private readonly burst: number;

  constructor(ratePerSecond: number, burst: number) {
    this.rate = ratePerSecond / 1000;
    this.burst = burst;
    this.tokens = burst;
  }

  /** Takes one token at time `now`; false when the bucket is empty (the limit is exceeded). */
  take(now: number): boolean {
    if (Number.isNaN(this.last)) this.last = now;
    else if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.rate);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
