/**
 * Regional failover and hedged requests, as client dispatch middleware (`client.use(...)`).
 *
 * Routing. The request's URL origin is a placeholder: its scheme, host and port are replaced by
 * those of the first healthy region's endpoint, and its path and query are kept. With
 * `placeholderOrigin` set, only requests to that origin are routed and every other request
 * passes through untouched. Regions are tried in the order given, or nearest first from `near`
 * (great-circle distance, see latam-region-presets.ts).
 *
 * Failover. A connect failure, connect timeout or lost connection (`errorCodes`), or a status in
 * `statusCodes` (502, 503, 504 by default), sends the request to the next region, but only for
 * idempotent methods (RFC 9110 §9.2.2; `methods` overrides) and only when the body can be sent
 * again (a one-shot stream cannot). Responses not returned are discarded so their connections
 * can be reused. When every region failed, the request rejects with
 * {@link AllRegionsFailedError}, which lists each region's error or status.
 *
 * Health. Each region has a {@link RegionCircuitBreaker}: `failureThreshold` consecutive
 * failures open it, an open region is skipped for `cooldownMs`, then one trial request decides.
 * Time is read from `now()` (injectable); no timer is armed for health.
 *
 * Hedging (`hedge`). For idempotent requests with a replayable body, when no response head has
 * come `afterMs` after sending to a region, the same request also goes to the next region, up to
 * `maxHedges` times. The first usable response head wins; the other attempts are aborted through
 * their own AbortController (each attempt's signal also follows the request's), which makes the
 * pool drop a queued attempt and close the connection of a sent one (HTTP/1.1 has no other way to
 * cancel; HTTP/2 resets the stream). `afterMs: 'auto'` uses each region's recent head latency
 * (nearest-rank percentile of a fixed ring, with a floor). The hedge wake-up is one handle on the
 * shared TimerWheel, not a Node timer.
 *
 * Hedging lives in this middleware rather than a separate one because a hedge is a failover that
 * does not wait for the failure: both walk the same ordered regions, consult the same breakers
 * and feed the same latency estimates; two middlewares would each need the region list and would
 * disagree about which region is next.
 */
import { performance } from 'node:perf_hooks';
import { isIdempotentMethod } from '../../core/method.js';
import { defaultTimerWheel, type TimerHandle, type TimerWheel } from '../../runtime/timer-wheel.js';
import {
  type ClientRegionalEvent,
  type ClientRegionalMessage,
  clientRegionalChannel,
} from '../client-diagnostics.js';
import { ClientError } from '../client-errors.js';
import { abortError } from '../client-exchange.js';
import type { ClientRequest } from '../client-request.js';
import type { ClientResponse } from '../client-response.js';
import type { Dispatch, DispatchMiddleware } from '../dispatch.js';
import { HeadLatencyRing } from './head-latency-ring.js';
import {
  type GeoPoint,
  isLatamRegionId,
  LATAM_REGION_PRESETS,
  latamRegionPreset,
  orderByDistance,
  validateGeoPoint,
} from './latam-region-presets.js';
import { Admission, type CircuitState, RegionCircuitBreaker } from './region-circuit-breaker.js';
import {
  AllRegionsFailedError,
  HedgeCancelledError,
  RegionalOptionsError,
  type RegionFailure,
  UnknownRegionError,
} from './regional-errors.js';

/** One region's endpoint. */
export interface RegionEndpoint {
  /** A preset id (`'sao-paulo'`, `'lima'`, ...) or your own id (then give `latitude`/`longitude`). */
  region: string;
  /** The region's origin, e.g. `'https://lima.api.example.com'` (no path, query or credentials). */
  url: string | URL;
  /** Display name. Default: the preset's, else the id. */
  name?: string;
  /** Latitude in degrees, required for a custom region; overrides a preset's. */
  latitude?: number;
  /** Longitude in degrees, required for a custom region; overrides a preset's. */
  longitude?: number;
}

/** Hedged requests. */
export interface RegionalHedgeOptions {
  /**
   * How long to wait for a response head from a region before also sending to the next one, in
   * ms, or `'auto'`: the region's recent head latency at `percentile`, at least `minAfterMs`.
   * Default `'auto'`.
   */
  afterMs?: number | 'auto';
  /** Most hedges (extra concurrent attempts) per request. Default 1. */
  maxHedges?: number;
  /** `'auto'`: percentile of recent head latencies, in (0, 1]. Default 0.9. */
  percentile?: number;
  /** `'auto'`: floor of the estimate, in ms. Default 10. */
  minAfterMs?: number;
  /** `'auto'`: the delay, in ms, until a region has 8 latency samples. Default 200. */
  initialAfterMs?: number;
  /** `'auto'`: head latencies kept per region (a fixed ring). Default 32. */
  samples?: number;
}

/** Options of {@link regionalFailover}. */
export interface RegionalFailoverOptions {
  /** The regions' endpoints (at least one). Tried in this order unless `near` is given. */
  endpoints: readonly RegionEndpoint[];
  /** Where the user is (a preset id or coordinates): regions are tried nearest first. Default: none. */
  near?: string | GeoPoint;
  /**
   * Only requests to this origin are routed (e.g. `'https://api.regional'`); others pass through.
   * Default: every request is routed, whatever its origin.
   */
  placeholderOrigin?: string | URL;
  /** Methods that fail over. Default: the idempotent ones (RFC 9110 §9.2.2). */
  methods?: readonly string[];
  /** Statuses that fail over (and count as region failures). Default `[502, 503, 504]`. */
  statusCodes?: readonly number[];
  /**
   * Error codes that fail over (and count as region failures). Default: connect failures, connect
   * timeouts, lost connections (`AVX_CLIENT_CONNECT_FAILED`, `AVX_CLIENT_CONNECT_TIMEOUT`,
   * `AVX_CLIENT_CONNECTION_CLOSED`). Any other error ends the request with that error.
   */
  errorCodes?: readonly string[];
  /** Consecutive failures that open a region's circuit breaker (>= 1). Default 5. */
  failureThreshold?: number;
  /** How long an open region is skipped before one trial request, in ms. Default 30000. */
  cooldownMs?: number;
  /** Hedged requests: options, `true` for the defaults, or `false`. Default false. */
  hedge?: RegionalHedgeOptions | boolean;
  /** Monotonic clock in ms for breakers and latencies. Default `performance.now()`. */
  now?: () => number;
  /** Timer wheel for hedge delays. Default: the process-wide `defaultTimerWheel()`. */
  timerWheel?: TimerWheel;
}

/** Counters since the middleware was created (read them at any time). */
export interface RegionalCounters {
  /** Attempts sent to another region after one failed. */
  readonly failovers: number;
  /** Hedges sent (attempts started because a region was slow to answer). */
  readonly hedgesSent: number;
  /** Requests whose returned response came from a hedge. */
  readonly hedgesWon: number;
  /** Requests rejected with {@link AllRegionsFailedError}. */
  readonly allRegionsFailed: number;
}

/** A snapshot of one region's health. */
export interface RegionHealth {
  readonly id: string;
  readonly name: string;
  readonly origin: string;
  /** Its circuit breaker's state. */
  readonly state: CircuitState;
  readonly consecutiveFailures: number;
  /** Head latency samples held. */
  readonly latencySamples: number;
  /** The hedge delay that would be used now, in ms (NaN when hedging is off). */
  readonly hedgeAfterMs: number;
}

/** The middleware, with its counters and a health snapshot. */
export type RegionalFailoverMiddleware = DispatchMiddleware & {
  /** Live counters. */
  readonly counters: RegionalCounters;
  /** Region ids in the order they are tried. */
  readonly regions: readonly string[];
  /** One entry per region, in the order they are tried. */
  health(): RegionHealth[];
};

const DEFAULT_STATUS_CODES = [502, 503, 504];
const DEFAULT_ERROR_CODES = [
  'AVX_CLIENT_CONNECT_FAILED',
  'AVX_CLIENT_CONNECT_TIMEOUT',
  'AVX_CLIENT_CONNECTION_CLOSED',
];
/** Samples a region needs before `'auto'` trusts its estimate. */
const AUTO_MIN_SAMPLES = 8;

function defaultNow(): number {
  return performance.now();
}

function ignore(): void {}

/** `list` with `failure` appended (a new list when there was none). */
function withFailure(list: RegionFailure[] | undefined, failure: RegionFailure): RegionFailure[] {
  if (list === undefined) return [failure];
  list.push(failure);
  return list;
}

function discard(response: ClientResponse): void {
  response.dump().catch(() => {});
}

function number(
  value: number | undefined,
  fallback: number,
  name: string,
  min: number,
  max = Infinity,
): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v >= min && v <= max)) {
    throw new RegionalOptionsError(`${name} must be a number in ${min}..${max}, got ${String(value)}`);
  }
  return v;
}

/** One configured region: where it is, how to reach it, how healthy it is. */
class Region implements GeoPoint {
  readonly id: string;
  readonly name: string;
  readonly origin: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly breaker: RegionCircuitBreaker;
  readonly latency: HeadLatencyRing;

  constructor(endpoint: RegionEndpoint, threshold: number, cooldownMs: number, samples: number) {
    const id = endpoint.region;
    if (typeof id !== 'string' || id === '') {
      throw new RegionalOptionsError('every endpoint needs a region id');
    }
    let name = endpoint.name;
    let point: GeoPoint;
    if (endpoint.latitude !== undefined || endpoint.longitude !== undefined) {
      point = { latitude: endpoint.latitude as number, longitude: endpoint.longitude as number };
      validateGeoPoint(point, `region ${id}`);
      if (isLatamRegionId(id)) name ??= latamRegionPreset(id).name;
    } else if (isLatamRegionId(id)) {
      const preset = latamRegionPreset(id);
      point = preset;
      name ??= preset.name;
    } else {
      throw new UnknownRegionError(
        id,
        LATAM_REGION_PRESETS.map((p) => p.id),
      );
    }
    let url: URL;
    try {
      url = new URL(String(endpoint.url));
    } catch (err) {
      throw new RegionalOptionsError(
        `region ${id}: invalid URL ${JSON.stringify(String(endpoint.url))}`,
        err,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RegionalOptionsError(
        `region ${id}: unsupported protocol ${url.protocol}: use http: or https:`,
      );
    }
    if (
      url.pathname !== '/' ||
      url.search !== '' ||
      url.hash !== '' ||
      url.username !== '' ||
      url.password !== ''
    ) {
      throw new RegionalOptionsError(
        `region ${id}: the endpoint must be an origin (scheme, host, port), got ${url.href}`,
      );
    }
    this.id = id;
    this.name = name ?? id;
    this.origin = url.origin;
    this.latitude = point.latitude;
    this.longitude = point.longitude;
    this.breaker = new RegionCircuitBreaker(threshold, cooldownMs);
    this.latency = new HeadLatencyRing(samples);
  }
}

interface MutableCounters {
  failovers: number;
  hedgesSent: number;
  hedgesWon: number;
  allRegionsFailed: number;
}

/** The state shared by every request through one middleware. */
class RegionalRouter {
  readonly regions: readonly Region[];
  readonly placeholder: string | undefined;
  readonly methods: ReadonlySet<string> | undefined;
  readonly statusCodes: ReadonlySet<number>;
  readonly errorCodes: ReadonlySet<string>;
  readonly now: () => number;
  readonly wheel: TimerWheel;
  readonly hedging: boolean;
  /** Fixed hedge delay in ms, or -1 for `'auto'`. */
  readonly hedgeAfterMs: number;
  readonly maxHedges: number;
  readonly percentile: number;
  readonly minAfterMs: number;
  readonly initialAfterMs: number;
  readonly counters: MutableCounters = { failovers: 0, hedgesSent: 0, hedgesWon: 0, allRegionsFailed: 0 };

  /** Counts `event` and publishes it on `avx:client:regional` (client-diagnostics.ts). */
  note(event: ClientRegionalEvent, request: ClientRequest): void {
    const counters = this.counters;
    if (event === 'failover') counters.failovers++;
    else if (event === 'hedge-sent') counters.hedgesSent++;
    else if (event === 'hedge-won') counters.hedgesWon++;
    else counters.allRegionsFailed++;
    if (clientRegionalChannel.hasSubscribers) {
      const message: ClientRegionalMessage = { origin: request.url.origin, event };
      clientRegionalChannel.publish(message);
    }
  }

  constructor(options: RegionalFailoverOptions) {
    if (options === null || typeof options !== 'object') {
      throw new RegionalOptionsError('regionalFailover() needs options with endpoints');
    }
    const endpoints = options.endpoints;
    if (!Array.isArray(endpoints) || endpoints.length === 0) {
      throw new RegionalOptionsError('regionalFailover() needs at least one endpoint');
    }
    const threshold = Math.floor(number(options.failureThreshold, 5, 'failureThreshold', 1));
    const cooldownMs = number(options.cooldownMs, 30_000, 'cooldownMs', 0);
    const hedge = options.hedge === true ? {} : options.hedge === false ? undefined : options.hedge;
    const samples = Math.floor(number(hedge?.samples, 32, 'hedge.samples', 1, 4096));
    const regions = endpoints.map((e) => new Region(e, threshold, cooldownMs, samples));
    const seen = new Set<string>();
    for (const r of regions) {
      if (seen.has(r.id)) throw new RegionalOptionsError(`region ${r.id} is configured twice`);
      seen.add(r.id);
    }
    this.regions = Object.freeze(
      options.near === undefined ? regions : orderByDistance(options.near, regions),
    );
    if (options.placeholderOrigin !== undefined) {
      try {
        this.placeholder = new URL(String(options.placeholderOrigin)).origin;
      } catch (err) {
        throw new RegionalOptionsError(`invalid placeholderOrigin ${String(options.placeholderOrigin)}`, err);
      }
    }
    this.methods = options.methods === undefined ? undefined : new Set(options.methods);
    this.statusCodes = new Set(options.statusCodes ?? DEFAULT_STATUS_CODES);
    this.errorCodes = new Set(options.errorCodes ?? DEFAULT_ERROR_CODES);
    this.now = options.now ?? defaultNow;
    this.wheel = options.timerWheel ?? defaultTimerWheel();
    const after = hedge?.afterMs ?? 'auto';
    this.hedgeAfterMs = after === 'auto' ? -1 : number(after, 0, 'hedge.afterMs', 0);
    this.maxHedges = Math.floor(number(hedge?.maxHedges, 1, 'hedge.maxHedges', 0));
    this.hedging = hedge !== undefined && this.maxHedges > 0 && this.regions.length > 1;
    this.percentile = number(hedge?.percentile, 0.9, 'hedge.percentile', Number.MIN_VALUE, 1);
    this.minAfterMs = number(hedge?.minAfterMs, 10, 'hedge.minAfterMs', 0);
    this.initialAfterMs = number(hedge?.initialAfterMs, 200, 'hedge.initialAfterMs', 0);
  }

  dispatch(request: ClientRequest, next: Dispatch): Promise<ClientResponse> {
    if (this.placeholder !== undefined && request.url.origin !== this.placeholder) return next(request);
    const method = request.method;
    const eligible =
      (request.body === null || request.body.reusable) &&
      (this.methods !== undefined ? this.methods.has(method) : isIdempotentMethod(method));
    if (eligible && this.hedging && isIdempotentMethod(method))
      return new HedgedRun(this, request, next).promise;
    return this.sequential(request, next, eligible);
  }

  /** The attempt URL: the region's origin with the request's path and query. */
  target(request: ClientRequest, region: Region): URL {
    const url = request.url;
    return new URL(region.origin + url.pathname + url.search);
  }

  /** Is `err` evidence that the region is unhealthy (and a reason to fail over)? */
  isRegionFailure(err: unknown): err is ClientError {
    return err instanceof ClientError && this.errorCodes.has(err.code);
  }

  /** The hedge delay after sending to `region`, in ms. */
  hedgeDelay(region: Region): number {
    if (this.hedgeAfterMs >= 0) return this.hedgeAfterMs;
    if (region.latency.count < AUTO_MIN_SAMPLES) return this.initialAfterMs;
    return Math.max(this.minAfterMs, region.latency.percentile(this.percentile));
  }

  /** Failover without hedging: one attempt at a time, region after region. */
  async sequential(request: ClientRequest, next: Dispatch, eligible: boolean): Promise<ClientResponse> {
    let failures: RegionFailure[] | undefined;
    let tried = false;
    for (const region of this.regions) {
      const admission = region.breaker.tryAcquire(this.now());
      if (admission === Admission.Refused) {
        failures = withFailure(failures, { region: region.id, origin: region.origin, kind: 'circuit-open' });
        continue;
      }
      if (tried) this.note('failover', request);
      tried = true;
      const start = this.now();
      let response: ClientResponse;
      try {
        response = await next(request.with({ url: this.target(request, region) }));
      } catch (err) {
        if (request.signal?.aborted || !this.isRegionFailure(err)) {
          region.breaker.onNeutral(admission);
          throw err;
        }
        region.breaker.onFailure(this.now());
        if (!eligible) throw err;
        failures = withFailure(failures, {
          region: region.id,
          origin: region.origin,
          kind: 'error',
          error: err,
        });
        continue;
      }
      const now = this.now();
      if (this.statusCodes.has(response.status)) {
        region.breaker.onFailure(now);
        if (!eligible) return response;
        failures = withFailure(failures, {
          region: region.id,
          origin: region.origin,
          kind: 'status',
          status: response.status,
        });
        discard(response);
        continue;
      }
      region.breaker.onSuccess();
      region.latency.record(now - start);
      return response;
    }
    this.note('all-failed', request);
    throw new AllRegionsFailedError(request.url.origin, failures ?? []);
  }

  health(): RegionHealth[] {
    return this.regions.map((r) => ({
      id: r.id,
      name: r.name,
      origin: r.origin,
      state: r.breaker.state,
      consecutiveFailures: r.breaker.consecutiveFailures,
      latencySamples: r.latency.count,
      hedgeAfterMs: this.hedging ? this.hedgeDelay(r) : Number.NaN,
    }));
  }
}

/** One attempt of a hedged request: the region it went to and how to cancel it. */
class HedgeAttempt {
  readonly region: Region;
  readonly admission: Admission;
  readonly controller = new AbortController();
  readonly start: number;
  readonly isHedge: boolean;
  done = false;

  constructor(region: Region, admission: Admission, start: number, isHedge: boolean) {
    this.region = region;
    this.admission = admission;
    this.start = start;
    this.isHedge = isHedge;
  }
}

function hedgeTimerFired(run: HedgedRun): void {
  run.hedge();
}

/**
 * One hedged request: attempts race, region after region; the first usable response head wins.
 * Failures start the next region at once (failover); silence for the hedge delay starts it too
 * (a hedge), up to `maxHedges` times.
 */
class HedgedRun {
  readonly promise: Promise<ClientResponse>;
  readonly #router: RegionalRouter;
  readonly #request: ClientRequest;
  readonly #next: Dispatch;
  readonly #attempts: HedgeAttempt[] = [];
  #resolve: (response: ClientResponse) => void = ignore;
  #reject: (error: Error) => void = ignore;
  #cursor = 0;
  #inFlight = 0;
  #hedges = 0;
  #settled = false;
  #timer: TimerHandle | undefined = undefined;
  #failures: RegionFailure[] | undefined = undefined;
  /** Passes the request's abort on to every running attempt (removed once settled). */
  #onAbort: (() => void) | undefined = undefined;

  constructor(router: RegionalRouter, request: ClientRequest, next: Dispatch) {
    this.#router = router;
    this.#request = request;
    this.#next = next;
    this.promise = new Promise<ClientResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const signal = request.signal;
    if (signal?.aborted) {
      this.#settled = true;
      this.#reject(abortError(request.url.origin, signal.reason));
    } else {
      if (signal !== undefined) {
        // Each attempt has its own signal, so that losers can be cancelled alone; the request's
        // abort reaches them all through this one listener (no AbortSignal.any: Node 20.0).
        const onAbort = () => {
          for (const a of this.#attempts) if (!a.done) a.controller.abort(signal.reason);
        };
        this.#onAbort = onAbort;
        signal.addEventListener('abort', onAbort, { once: true });
      }
      if (this.#launch(false)) this.#armHedge();
      else this.#allFailed();
    }
  }

  /** The hedge delay passed with no response head: send to the next region too. */
  hedge(): void {
    this.#timer = undefined;
    if (this.#settled) return;
    this.#hedges++;
    if (!this.#launch(true)) return;
    this.#router.note('hedge-sent', this.#request);
    this.#armHedge();
  }

  /** Sends to the next admissible region; false when none is left. */
  #launch(isHedge: boolean): boolean {
    const router = this.#router;
    const regions = router.regions;
    const request = this.#request;
    while (this.#cursor < regions.length) {
      const region = regions[this.#cursor++]!;
      const admission = region.breaker.tryAcquire(router.now());
      if (admission === Admission.Refused) {
        this.#fail({ region: region.id, origin: region.origin, kind: 'circuit-open' });
        continue;
      }
      const attempt = new HedgeAttempt(region, admission, router.now(), isHedge);
      const copy = request.with({ url: router.target(request, region) });
      copy.signal = attempt.controller.signal;
      this.#attempts.push(attempt);
      this.#inFlight++;
      let sent: Promise<ClientResponse>;
      try {
        sent = this.#next(copy);
      } catch (err) {
        sent = Promise.reject(err);
      }
      sent.then(
        (response) => this.#onHead(attempt, response),
        (err: unknown) => this.#onError(attempt, err as Error),
      );
      return true;
    }
    return false;
  }

  /** Arms the hedge timer for the region sent to last, if a hedge is still allowed and possible. */
  #armHedge(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    const router = this.#router;
    if (this.#hedges >= router.maxHedges || this.#cursor >= router.regions.length) return;
    const last = this.#attempts[this.#attempts.length - 1]!;
    this.#timer = router.wheel.schedule(router.hedgeDelay(last.region), hedgeTimerFired, this as HedgedRun);
  }

  #onHead(attempt: HedgeAttempt, response: ClientResponse): void {
    attempt.done = true;
    this.#inFlight--;
    const region = attempt.region;
    if (this.#settled) {
      region.breaker.onNeutral(attempt.admission);
      discard(response);
      return;
    }
    const router = this.#router;
    const now = router.now();
    if (router.statusCodes.has(response.status)) {
      region.breaker.onFailure(now);
      this.#fail({ region: region.id, origin: region.origin, kind: 'status', status: response.status });
      discard(response);
      this.#failover();
      return;
    }
    region.breaker.onSuccess();
    region.latency.record(now - attempt.start);
    if (attempt.isHedge) router.note('hedge-won', this.#request);
    this.#settle();
    this.#resolve(response);
  }

  #onError(attempt: HedgeAttempt, err: Error): void {
    attempt.done = true;
    this.#inFlight--;
    const region = attempt.region;
    const router = this.#router;
    if (this.#settled || this.#request.signal?.aborted || !router.isRegionFailure(err)) {
      region.breaker.onNeutral(attempt.admission);
      if (this.#settled) return;
      this.#settle();
      this.#reject(err);
      return;
    }
    region.breaker.onFailure(router.now());
    this.#fail({ region: region.id, origin: region.origin, kind: 'error', error: err });
    this.#failover();
  }

  /** An attempt failed: the next region now, else wait for the others, else give up. */
  #failover(): void {
    if (this.#launch(false)) {
      this.#router.note('failover', this.#request);
      this.#armHedge();
      return;
    }
    if (this.#inFlight === 0) this.#allFailed();
  }

  #allFailed(): void {
    this.#settle();
    this.#router.note('all-failed', this.#request);
    this.#reject(new AllRegionsFailedError(this.#request.url.origin, this.#failures ?? []));
  }

  #fail(failure: RegionFailure): void {
    this.#failures = withFailure(this.#failures, failure);
  }

  /** The request is decided: stop hedging and cancel every attempt still running. */
  #settle(): void {
    this.#settled = true;
    if (this.#onAbort !== undefined) this.#request.signal?.removeEventListener('abort', this.#onAbort);
    this.#timer?.cancel();
    this.#timer = undefined;
    for (const a of this.#attempts) {
      if (!a.done) a.controller.abort(new HedgeCancelledError(a.region.origin));
    }
  }
}

/**
 * Regional failover (and, with `hedge`, hedged requests) as dispatch middleware:
 * `client.use(regionalFailover({ endpoints: [...] }))`. Throws {@link UnknownRegionError} or
 * {@link RegionalOptionsError} at setup for unusable options.
 */
export function regionalFailover(options: RegionalFailoverOptions): RegionalFailoverMiddleware {
  const router = new RegionalRouter(options);
  const middleware: DispatchMiddleware = (request, next) => router.dispatch(request, next);
  return Object.assign(middleware, {
    counters: router.counters as RegionalCounters,
    regions: Object.freeze(router.regions.map((r) => r.id)),
    health: () => router.health(),
  });
}
