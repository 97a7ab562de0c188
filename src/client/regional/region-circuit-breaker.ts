/**
 * The health of one region as a small circuit breaker, driven by timestamps it is given (it
 * never reads a clock and arms no timer):
 *
 * ```
 *   closed --(failureThreshold consecutive failures)--> open
 *   open   --(cooldownMs elapsed, one request admitted as the trial)--> half-open
 *   half-open --(trial succeeds)--> closed      half-open --(trial fails)--> open (cooldown again)
 * ```
 *
 * While open, the region is skipped. While half-open, only the one trial request goes to it; if
 * the trial ends without a verdict (it lost a hedge race, or was aborted), the next request may
 * be the trial.
 */

/** Where a breaker stands. */
export const CircuitState = {
  Closed: 'closed',
  Open: 'open',
  HalfOpen: 'half-open',
} as const;
export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState];

/** What {@link RegionCircuitBreaker.tryAcquire} answered. */
export const Admission = {
  /** The region is skipped. */
  Refused: 0,
  /** An ordinary request. */
  Admitted: 1,
  /** The one trial request of a half-open breaker. */
  Trial: 2,
} as const;
export type Admission = (typeof Admission)[keyof typeof Admission];

/** A consecutive-failure circuit breaker with a cooldown and a single half-open trial. */
export class RegionCircuitBreaker {
  /** Consecutive failures that open the circuit (>= 1). */
  readonly failureThreshold: number;
  /** How long an open circuit skips the region before a trial, in ms. */
  readonly cooldownMs: number;
  #state: CircuitState = CircuitState.Closed;
  #failures = 0;
  #openedAt = 0;
  #trialInFlight = false;

  constructor(failureThreshold: number, cooldownMs: number) {
    this.failureThreshold = failureThreshold;
    this.cooldownMs = cooldownMs;
  }

  /** The state as of the last call (an open breaker past its cooldown still reads `open`). */
  get state(): CircuitState {
    return this.#state;
  }

  /** Failures in a row since the last success. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** May a request go to the region at time `now` (ms)? */
  tryAcquire(now: number): Admission {
    const state = this.#state;
    if (state === CircuitState.Closed) return Admission.Admitted;
    if (state === CircuitState.Open) {
      if (now - this.#openedAt < this.cooldownMs) return Admission.Refused;
      this.#state = CircuitState.HalfOpen;
    } else if (this.#trialInFlight) {
      return Admission.Refused;
    }
    this.#trialInFlight = true;
    return Admission.Trial;
  }

  /** The region answered: the circuit closes. */
  onSuccess(): void {
    this.#state = CircuitState.Closed;
    this.#failures = 0;
    this.#trialInFlight = false;
  }

  /** The region failed at time `now`: a failed trial, or the threshold reached, opens the circuit. */
  onFailure(now: number): void {
    this.#failures++;
    const state = this.#state;
    if (
      state === CircuitState.HalfOpen ||
      (state === CircuitState.Closed && this.#failures >= this.failureThreshold)
    ) {
      this.#state = CircuitState.Open;
      this.#openedAt = now;
      this.#trialInFlight = false;
    }
  }

  /** An attempt ended without telling anything about the region (cancelled, aborted). */
  onNeutral(admission: Admission): void {
    if (admission === Admission.Trial && this.#state === CircuitState.HalfOpen) this.#trialInFlight = false;
  }
}
