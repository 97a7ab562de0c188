/**
 * The router contract. A router maps (method, path) to a handler and the path's parameters.
 * Implementations sit behind this interface and all pass the same shared test suite
 * (test/server/router/router-contract.ts), so alternatives can be measured against each other.
 *
 * Path patterns:
 * - static segments: `/users/all`
 * - named parameters: `/users/:id` (one segment, `[^/]+`), several per path
 * - a trailing wildcard: `/files/*` (the rest of the path, possibly empty, as param `*`)
 * Method `ALL` matches any method. A GET route also answers HEAD unless a HEAD route exists.
 */

/** A successful lookup. */
export interface RouteMatch<T> {
  handler: T;
  /** Parameter values, percent-decoded. An empty frozen object when the route has none. */
  params: Record<string, string>;
  /** The pattern the route was registered with (`/users/:id`): a low-cardinality telemetry label. */
  pattern: string;
}

/** A router from (method, path) to handlers. */
export interface Router<T> {
  /** Registers `handler` for `method` (upper case, or `ALL`) and `pattern`. */
  add(method: string, pattern: string, handler: T): void;
  /** The handler for `method` and `path` (no query string), or null. */
  match(method: string, path: string): RouteMatch<T> | null;
  /** The methods some route accepts for `path` (for a 405's `Allow`, RFC 9110 §15.5.6); [] when none. */
  allowedMethods(path: string): string[];
}
