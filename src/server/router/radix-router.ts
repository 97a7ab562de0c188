/**
 * RadixRouter: the default {@link Router}, a radix tree (compressed prefix tree) over the raw
 * request path, with the pattern rules of router.ts (static text, `:param` segments, a trailing
 * `*`). Matching walks the tree comparing substrings and scanning for `/`: no regular
 * expressions and no per-request closures; the only allocations are the result and its params.
 *
 * Tree shape
 * - A static node holds a run of literal characters (`prefix`) shared by every route below it;
 *   its static children are told apart by their first character. Adding `/users` next to
 *   `/uploads` splits the node `/u` off (shared-prefix compression).
 * - A static node whose text ends in `/` may also have one parameter child (every route uses
 *   the same name at that position) and one wildcard endpoint.
 * - An endpoint holds a method table: the handlers registered for one pattern, by method.
 *
 * Matching rules
 * - Priority at every position: static, then parameter, then wildcard. When a branch cannot
 *   finish the match (no route, or no route for the method) the router backtracks and tries the
 *   next kind, so `GET /users/me` and `DELETE /users/:id` both work for `/users/me`.
 * - Method table lookup: the exact method, then (for HEAD) GET, then `ALL`.
 * - A parameter matches one non-empty segment (`[^/]+`). A wildcard matches the rest of the path,
 *   possibly empty: `/files/*` matches `/files/` and `/files/a/b`, but not `/files`.
 * - Trailing slashes are strict: `/a` and `/a/` are different routes. Redirecting one to the
 *   other is the app's choice, not the router's.
 * - Static text matches the path as sent (percent-encoded): register `/caf%C3%A9`, not `/café`
 *   (the pattern parser rejects non-ASCII). Parameter values are percent-decoded (RFC 3986
 *   §2.1) only when they contain `%`; a malformed escape throws HttpError 400 from `match`.
 *
 * Registration errors ({@link RouteDefinitionError}, thrown by `add`): a malformed pattern,
 * the same method and pattern twice, or two different parameter names at one position.
 */
import { isToken } from '../../core/char-classes.js';
import { decodeParamValue } from './param-value.js';
import { RouteDefinitionError } from './route-definition-error.js';
import { parseRoutePattern, WILDCARD_PARAM } from './route-pattern.js';
import type { RouteMatch, Router } from './router.js';

const ALL = 'ALL';
const SLASH = 0x2f;
const EMPTY_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** The handlers registered for one pattern, by method. */
class RouteEndpoint<T> {
  readonly methods: string[] = [];
  readonly handlers: T[] = [];

  /**
   * Names of the pattern's parameters in path order (`*` for the wildcard), and the pattern
   * text (every pattern reaching one endpoint is the same text: parameter names must agree).
   */
  constructor(
    readonly paramNames: readonly string[],
    readonly pattern: string,
  ) {}

  /** Index of the handler for `method`: exact, then GET for HEAD, then ALL; -1 when none. */
  indexFor(method: string): number {
    const methods = this.methods;
    let i = methods.indexOf(method);
    if (i !== -1) return i;
    if (method === 'HEAD') {
      i = methods.indexOf('GET');
      if (i !== -1) return i;
    }
    return methods.indexOf(ALL);
  }
}

/** A run of literal path characters, with what may follow it. */
class StaticNode<T> {
  /** First character code of each static child, parallel to `children`. */
  readonly firstChars: number[] = [];
  readonly children: StaticNode<T>[] = [];
  /** The parameter segment that may follow (only when `prefix` leads up to a `/`). */
  param: ParamNode<T> | null = null;
  /** Routes ending in `*` right here. */
  wildcard: RouteEndpoint<T> | null = null;
  /** Routes ending exactly here. */
  endpoint: RouteEndpoint<T> | null = null;

  constructor(public prefix: string) {}
}

/** A `:name` segment. What follows it starts at `next`, whose prefix is empty. */
class ParamNode<T> {
  readonly next: StaticNode<T> = new StaticNode<T>('');

  constructor(readonly name: string) {}
}

/** A radix-tree {@link Router}. See the file comment for the matching rules. */
export class RadixRouter<T> implements Router<T> {
  private readonly root: StaticNode<T> = new StaticNode<T>('');
  /** Scratch of the current match: [start, end) of each captured value, in path order. */
  private readonly bounds: number[] = [];
  // How many entries of `bounds` are in use: a count, because setting an array's length calls
  // into the runtime on every match.
  private boundsCount = 0;
  /** Scratch of the current match: index of the handler in the endpoint found. */
  private found = -1;

  /**
   * Registers `handler` for `method` and `pattern`. `method` is a method token (case-sensitive:
   * `GET`, not `get`) or `ALL`. Throws {@link RouteDefinitionError} when the pattern is
   * malformed or conflicts with a registered route.
   */
  add(method: string, pattern: string, handler: T): void {
    if (typeof method !== 'string' || !isToken(method)) {
      throw new RouteDefinitionError(
        'AVX_ROUTE_INVALID_METHOD',
        String(method),
        pattern,
        'invalid method: a method is a token (RFC 9110 §9.1) or "ALL"',
      );
    }
    const parts = parseRoutePattern(method, pattern);
    const names: string[] = [];
    let node = this.root;
    let endpoint: RouteEndpoint<T> | null = null;
    for (const part of parts) {
      if (part.kind === 'static') {
        node = insertStatic(node, part.text);
      } else if (part.kind === 'param') {
        if (node.param === null) {
          node.param = new ParamNode<T>(part.name);
        } else if (node.param.name !== part.name) {
          throw new RouteDefinitionError(
            'AVX_ROUTE_PARAM_CONFLICT',
            method,
            pattern,
            `parameter ":${part.name}" is at the position another route names ":${node.param.name}"; use one name`,
          );
        }
        names.push(part.name);
        node = node.param.next;
      } else {
        names.push(WILDCARD_PARAM);
        if (node.wildcard === null) node.wildcard = new RouteEndpoint<T>(names, pattern);
        endpoint = node.wildcard;
      }
    }
    if (endpoint === null) {
      if (node.endpoint === null) node.endpoint = new RouteEndpoint<T>(names, pattern);
      endpoint = node.endpoint;
    }
    if (endpoint.methods.includes(method)) {
      throw new RouteDefinitionError(
        'AVX_ROUTE_DUPLICATE',
        method,
        pattern,
        'this route is already registered',
      );
    }
    endpoint.methods.push(method);
    endpoint.handlers.push(handler);
  }

  /**
   * The handler for `method` and `path` (the raw path, no query) with its decoded params, or
   * null. Throws HttpError 400 when a captured value has a malformed percent-escape.
   */
  match(method: string, path: string): RouteMatch<T> | null {
    this.boundsCount = 0;
    const bounds = this.bounds;
    const endpoint = this.find(this.root, method, path, 0);
    if (endpoint === null) return null;
    const handler = endpoint.handlers[this.found]!;
    const names = endpoint.paramNames;
    const n = names.length;
    if (n === 0) return { handler, params: EMPTY_PARAMS, pattern: endpoint.pattern };
    const params: Record<string, string> = {};
    for (let i = 0; i < n; i++) {
      params[names[i]!] = decodeParamValue(path.slice(bounds[2 * i]!, bounds[2 * i + 1]!));
    }
    return { handler, params, pattern: endpoint.pattern };
  }

  /**
   * Every method some route accepts for `path`, for a 405's `Allow` (RFC 9110 §15.5.6): HEAD
   * is listed wherever GET is. `ALL` routes are not listed (a path they match never gets a
   * 405). Order: routes in match priority, methods in registration order. [] when no route.
   */
  allowedMethods(path: string): string[] {
    const out: string[] = [];
    collectMethods(this.root, path, 0, out);
    if (out.includes('GET') && !out.includes('HEAD')) out.splice(out.indexOf('GET') + 1, 0, 'HEAD');
    return out;
  }

  /** Records one capture's bounds (start, end) in `bounds`, reusing its slots. */
  private pushBounds(start: number, end: number): void {
    const bounds = this.bounds;
    const n = this.boundsCount;
    bounds[n] = start;
    bounds[n + 1] = end;
    this.boundsCount = n + 2;
  }

  /** Depth-first search in priority order; records captures in `bounds` and the handler in `found`. */
  private find(node: StaticNode<T>, method: string, path: string, pos: number): RouteEndpoint<T> | null {
    const prefix = node.prefix;
    if (prefix.length !== 0) {
      if (!path.startsWith(prefix, pos)) return null;
      pos += prefix.length;
    }
    const length = path.length;
    if (pos === length) {
      const endpoint = node.endpoint;
      if (endpoint !== null) {
        const i = endpoint.indexFor(method);
        if (i !== -1) {
          this.found = i;
          return endpoint;
        }
      }
      const wildcard = node.wildcard;
      if (wildcard !== null) {
        const i = wildcard.indexFor(method);
        if (i !== -1) {
          this.found = i;
          this.pushBounds(pos, pos);
          return wildcard;
        }
      }
      return null;
    }
    const c = path.charCodeAt(pos);
    const firstChars = node.firstChars;
    for (let k = 0; k < firstChars.length; k++) {
      if (firstChars[k] === c) {
        const found = this.find(node.children[k]!, method, path, pos);
        if (found !== null) return found;
        break;
      }
    }
    const param = node.param;
    if (param !== null && c !== SLASH) {
      let end = path.indexOf('/', pos);
      if (end === -1) end = length;
      this.pushBounds(pos, end);
      const found = this.find(param.next, method, path, end);
      if (found !== null) return found;
      this.boundsCount -= 2;
    }
    const wildcard = node.wildcard;
    if (wildcard !== null) {
      const i = wildcard.indexFor(method);
      if (i !== -1) {
        this.found = i;
        this.pushBounds(pos, length);
        return wildcard;
      }
    }
    return null;
  }
}

/** Adds the literal `text` below `node`, splitting nodes as needed; returns the node it ends at. */
function insertStatic<T>(node: StaticNode<T>, text: string): StaticNode<T> {
  while (text.length > 0) {
    const k = node.firstChars.indexOf(text.charCodeAt(0));
    if (k === -1) {
      const child = new StaticNode<T>(text);
      node.firstChars.push(text.charCodeAt(0));
      node.children.push(child);
      return child;
    }
    let child = node.children[k]!;
    const shared = commonPrefixLength(child.prefix, text);
    if (shared < child.prefix.length) {
      const split = new StaticNode<T>(child.prefix.slice(0, shared));
      child.prefix = child.prefix.slice(shared);
      split.firstChars.push(child.prefix.charCodeAt(0));
      split.children.push(child);
      node.children[k] = split;
      child = split;
    }
    text = text.slice(shared);
    node = child;
  }
  return node;
}

function commonPrefixLength(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Adds to `out` the methods of every endpoint `path` reaches from `node` (any method). */
function collectMethods<T>(node: StaticNode<T>, path: string, pos: number, out: string[]): void {
  const prefix = node.prefix;
  if (prefix.length !== 0) {
    if (!path.startsWith(prefix, pos)) return;
    pos += prefix.length;
  }
  if (pos === path.length) {
    if (node.endpoint !== null) addMethods(node.endpoint, out);
    if (node.wildcard !== null) addMethods(node.wildcard, out);
    return;
  }
  const c = path.charCodeAt(pos);
  const k = node.firstChars.indexOf(c);
  if (k !== -1) collectMethods(node.children[k]!, path, pos, out);
  if (node.param !== null && c !== SLASH) {
    let end = path.indexOf('/', pos);
    if (end === -1) end = path.length;
    collectMethods(node.param.next, path, end, out);
  }
  if (node.wildcard !== null) addMethods(node.wildcard, out);
}

function addMethods<T>(endpoint: RouteEndpoint<T>, out: string[]): void {
  for (const method of endpoint.methods) {
    if (method !== ALL && !out.includes(method)) out.push(method);
  }
}
