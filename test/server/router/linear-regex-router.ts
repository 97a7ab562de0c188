/**
 * A deliberately naive Router: one regular expression per route, tried in order. It exists as
 * a second implementation for the shared contract (test/server/router/router-contract.ts) and
 * as the baseline of bench/router.ts. Not for production: matching is O(routes).
 *
 * Priority is obtained by keeping routes sorted by their shape, segment by segment (static
 * before parameter before wildcard), so the first route that matches and accepts the method is
 * the one the radix router's depth-first search would find.
 */
import { isToken } from '../../../src/core/char-classes.js';
import { decodeParamValue } from '../../../src/server/router/param-value.js';
import { RouteDefinitionError } from '../../../src/server/router/route-definition-error.js';
import { parseRoutePattern, WILDCARD_PARAM } from '../../../src/server/router/route-pattern.js';
import type { RouteMatch, Router } from '../../../src/server/router/router.js';

interface LinearRoute<T> {
  regex: RegExp;
  names: string[];
  /** One rank per path segment: 0 static, 1 parameter, 2 wildcard. */
  rank: number[];
  methods: string[];
  handlers: T[];
  pattern: string;
}

const EMPTY: Record<string, string> = Object.freeze({}) as Record<string, string>;

function compareRank(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function indexFor(methods: string[], method: string): number {
  let i = methods.indexOf(method);
  if (i === -1 && method === 'HEAD') i = methods.indexOf('GET');
  if (i === -1) i = methods.indexOf('ALL');
  return i;
}

/** A linear, regex-per-route {@link Router}. */
export class LinearRegexRouter<T> implements Router<T> {
  private readonly routes: LinearRoute<T>[] = [];

  add(method: string, pattern: string, handler: T): void {
    if (typeof method !== 'string' || !isToken(method)) {
      throw new RouteDefinitionError('AVX_ROUTE_INVALID_METHOD', String(method), pattern, 'invalid method');
    }
    const parts = parseRoutePattern(method, pattern);
    let source = '^';
    const names: string[] = [];
    for (const part of parts) {
      if (part.kind === 'static') source += part.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      else if (part.kind === 'param') {
        source += '([^/]+)';
        names.push(part.name);
      } else {
        source += '(.*)';
        names.push(WILDCARD_PARAM);
      }
    }
    const segments = pattern.split('/').slice(1);
    const rank = segments.map((s) => (s.startsWith(':') ? 1 : s === '*' ? 2 : 0));
    for (const other of this.routes) {
      // The same text up to a parameter position, named differently there: a conflict.
      const theirs = other.pattern.split('/').slice(1);
      for (let i = 0; i < Math.min(segments.length, theirs.length); i++) {
        const a = segments[i]!;
        const b = theirs[i]!;
        const aParam = a.startsWith(':');
        const bParam = b.startsWith(':');
        if (aParam && bParam) {
          if (a !== b) {
            throw new RouteDefinitionError(
              'AVX_ROUTE_PARAM_CONFLICT',
              method,
              pattern,
              'parameter name conflict',
            );
          }
          continue;
        }
        if (aParam || bParam || a !== b) break;
      }
    }
    const existing = this.routes.find((r) => r.pattern === pattern);
    if (existing !== undefined) {
      if (existing.methods.includes(method)) {
        throw new RouteDefinitionError('AVX_ROUTE_DUPLICATE', method, pattern, 'already registered');
      }
      existing.methods.push(method);
      existing.handlers.push(handler);
      return;
    }
    const route: LinearRoute<T> = {
      regex: new RegExp(`${source}$`),
      names,
      rank,
      methods: [method],
      handlers: [handler],
      pattern,
    };
    this.routes.push(route);
    this.routes.sort((a, b) => compareRank(a.rank, b.rank));
  }

  match(method: string, path: string): RouteMatch<T> | null {
    for (const route of this.routes) {
      const i = indexFor(route.methods, method);
      if (i === -1) continue;
      const m = route.regex.exec(path);
      if (m === null) continue;
      if (route.names.length === 0)
        return { handler: route.handlers[i]!, params: EMPTY, pattern: route.pattern };
      const params: Record<string, string> = {};
      for (let k = 0; k < route.names.length; k++) params[route.names[k]!] = decodeParamValue(m[k + 1]!);
      return { handler: route.handlers[i]!, params, pattern: route.pattern };
    }
    return null;
  }

  allowedMethods(path: string): string[] {
    const out: string[] = [];
    for (const route of this.routes) {
      if (!route.regex.test(path)) continue;
      for (const m of route.methods) if (m !== 'ALL' && !out.includes(m)) out.push(m);
    }
    if (out.includes('GET') && !out.includes('HEAD')) out.push('HEAD');
    return out;
  }
}
