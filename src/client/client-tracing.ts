/**
 * The seam between `ClientOptions.tracing` and the tracer, which lives above the client
 * (src/telemetry/tracing). The telemetry layer installs a policy factory here when it loads;
 * the client only asks for the policy, so imports keep pointing down the layers.
 */
import { AvxError } from '../core/errors.js';
import type { DispatchMiddleware } from './dispatch.js';

/** Options of client tracing (`new Client({ tracing: { ... } })`). */
export interface TracingClientOptions {
  /**
   * Record client spans with the process's tracer (the one `tracing()` installed). When false,
   * or when no tracer is installed, the client only propagates the active context. Default true.
   */
  record?: boolean;
}

/** Makes the tracing dispatch policy. */
export type ClientTracingPolicyFactory = (options: TracingClientOptions) => DispatchMiddleware;

let factory: ClientTracingPolicyFactory | undefined;

/** Installs the policy factory (called by the telemetry layer). */
export function installClientTracing(create: ClientTracingPolicyFactory): void {
  factory = create;
}

/** The tracing policy for `options`; throws when the telemetry layer is not loaded. */
export function clientTracingPolicy(options: TracingClientOptions): DispatchMiddleware {
  if (factory === undefined) {
    throw new AvxError(
      'AVX_CLIENT_TRACING_UNAVAILABLE',
      "client tracing needs the telemetry layer: import { tracing } from 'avx-http'",
    );
  }
  return factory(options);
}
