/**
 * The error a router throws at registration time (`add`) when a route cannot be added: the
 * pattern breaks the path-pattern rules of router.ts, or the route conflicts with one already
 * registered. Thrown while the app is being built, never while serving a request.
 */
import { AvxError } from '../../core/errors.js';

/** Stable codes of {@link RouteDefinitionError}. */
export type RouteDefinitionErrorCode =
  /** The pattern is malformed (no leading `/`, bad parameter name, `*` not last, ...). */
  | 'AVX_ROUTE_INVALID_PATTERN'
  /** The method is neither a token (RFC 9110 §9.1) nor `ALL`. */
  | 'AVX_ROUTE_INVALID_METHOD'
  /** The same method and pattern were registered twice. */
  | 'AVX_ROUTE_DUPLICATE'
  /** Two patterns name the parameter at the same position differently (`/:id` vs `/:name/x`). */
  | 'AVX_ROUTE_PARAM_CONFLICT';

/** A route could not be registered. */
export class RouteDefinitionError extends AvxError {
  /** The pattern being registered. */
  readonly pattern: string;
  /** The method being registered. */
  readonly method: string;

  constructor(code: RouteDefinitionErrorCode, method: string, pattern: string, message: string) {
    super(code, `${message} (route ${method} ${JSON.stringify(pattern)})`);
    this.method = method;
    this.pattern = pattern;
  }
}
