/**
 * The typed errors of regional failover and hedging: a region id that names no preset and brings
 * no coordinates, options that cannot work, every region failing a request, and the reason an
 * attempt that lost a hedge race (or outlived its request) is aborted with.
 */
import { ClientError } from '../client-errors.js';

/** A region id is neither one of the presets nor a custom region with its own coordinates. */
export class UnknownRegionError extends ClientError {
  /** The id that was given. */
  readonly region: string;

  constructor(region: string, known: readonly string[]) {
    super(
      'AVX_CLIENT_UNKNOWN_REGION',
      `unknown region ${JSON.stringify(region)}: use one of ${known.join(', ')}, or give a custom region its latitude and longitude`,
    );
    this.region = region;
  }
}

/** Regional failover options that cannot work (no endpoints, a duplicate id, a URL with a path, ...). */
export class RegionalOptionsError extends ClientError {
  constructor(message: string, cause?: unknown) {
    super('AVX_CLIENT_REGIONAL_OPTIONS', message, '', cause === undefined ? undefined : { cause });
  }
}

/** What happened to one region while a request was being routed. */
export interface RegionFailure {
  /** The region's id, e.g. `'lima'`. */
  readonly region: string;
  /** The origin the region was reached at, e.g. `'https://lima.api.example.com'`. */
  readonly origin: string;
  /**
   * `'error'`: the attempt failed with `error` (connect failure, lost connection, ...);
   * `'status'`: the region answered with a failover status (`status`, e.g. 503);
   * `'circuit-open'`: the region was skipped, its circuit breaker being open.
   */
  readonly kind: 'error' | 'status' | 'circuit-open';
  /** The attempt's error, for kind `'error'`. */
  readonly error?: Error;
  /** The status received, for kind `'status'`. */
  readonly status?: number;
}

/** Every configured region failed the request, or was skipped by its circuit breaker. */
export class AllRegionsFailedError extends ClientError {
  /** One entry per region, in the order they were tried. */
  readonly failures: readonly RegionFailure[];

  constructor(origin: string, failures: readonly RegionFailure[]) {
    const summary = failures
      .map((f) =>
        f.kind === 'status'
          ? `${f.region}: status ${f.status}`
          : f.kind === 'error'
            ? `${f.region}: ${(f.error as { code?: string } | undefined)?.code ?? f.error?.message}`
            : `${f.region}: circuit open`,
      )
      .join('; ');
    super('AVX_CLIENT_ALL_REGIONS_FAILED', `every region failed the request (${summary})`, origin);
    this.failures = failures;
  }
}

/**
 * The abort reason of an attempt that is no longer needed: another region's response head
 * arrived first (a hedge race was lost), or the request ended with another attempt's error.
 */
export class HedgeCancelledError extends ClientError {
  constructor(origin: string) {
    super(
      'AVX_CLIENT_HEDGE_CANCELLED',
      `the attempt to ${origin} was cancelled: the request was settled by another region`,
      origin,
    );
  }
}
