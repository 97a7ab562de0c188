/**
 * Parsing of route patterns (the rules are in router.ts) into parts a router builds its tables
 * from. Shared by every Router implementation so they all accept and reject the same patterns.
 *
 * - A pattern starts with `/` and holds visible ASCII only (request paths are ASCII,
 *   RFC 9112 §3.2 / RFC 3986 §2: percent-encode anything else in the pattern as it will arrive).
 * - `:name` as a whole segment is a parameter; `name` is 1+ of `A-Z a-z 0-9 _` and unique in
 *   the pattern. A `:` not at the start of a segment is literal (`/v1/items:batch`).
 * - `*` as the whole last segment is the wildcard (param `*`); a `*` anywhere else is an error
 *   (write a literal star as `%2A`).
 * - `?` and `#` are errors: patterns match the path only.
 */
import { RouteDefinitionError } from './route-definition-error.js';

/** One piece of a parsed pattern. Static text keeps its slashes: `/a/:b/c` is `/a/`, `b`, `/c`. */
export type RoutePatternPart =
  | { readonly kind: 'static'; readonly text: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'wildcard' };

/** The parameter name a trailing wildcard is reported under. */
export const WILDCARD_PARAM = '*';

const SLASH = 0x2f;
const COLON = 0x3a;
const STAR = 0x2a;

/** Splits `pattern` into parts, or throws {@link RouteDefinitionError} (`AVX_ROUTE_INVALID_PATTERN`). */
export function parseRoutePattern(method: string, pattern: string): RoutePatternPart[] {
  const invalid = (why: string): RouteDefinitionError =>
    new RouteDefinitionError('AVX_ROUTE_INVALID_PATTERN', method, pattern, `invalid route pattern: ${why}`);
  if (typeof pattern !== 'string' || pattern.charCodeAt(0) !== SLASH) {
    throw invalid('a pattern must start with "/"');
  }
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) {
      throw invalid(
        `character ${JSON.stringify(pattern[i])} at index ${i}: use visible ASCII, percent-encode the rest`,
      );
    }
    if (c === 0x3f || c === 0x23) throw invalid('"?" and "#" are not part of a path');
  }
  const parts: RoutePatternPart[] = [];
  const names = new Set<string>();
  let text = '';
  let start = 1; // start of the current segment, just after its '/'
  while (start <= pattern.length) {
    // Invariant: pattern[start - 1] === '/'.
    let end = pattern.indexOf('/', start);
    if (end === -1) end = pattern.length;
    const first = pattern.charCodeAt(start);
    if (first === COLON) {
      const name = pattern.slice(start + 1, end);
      if (!isParamName(name)) {
        throw invalid(
          `parameter name ${JSON.stringify(name)}: use 1 or more of A-Z a-z 0-9 _ for a whole segment`,
        );
      }
      if (name === '__proto__') throw invalid('"__proto__" cannot be a parameter name');
      if (names.has(name)) throw invalid(`parameter ":${name}" appears twice`);
      names.add(name);
      parts.push({ kind: 'static', text: `${text}/` });
      parts.push({ kind: 'param', name });
      text = '';
    } else if (first === STAR && end === start + 1 && end === pattern.length) {
      parts.push({ kind: 'static', text: `${text}/` });
      parts.push({ kind: 'wildcard' });
      text = '';
    } else {
      const segment = pattern.slice(start, end);
      if (segment.includes('*')) throw invalid('"*" is only allowed as the whole last segment');
      text += `/${segment}`;
    }
    start = end + 1;
  }
  if (text !== '') parts.push({ kind: 'static', text });
  return mergeStatic(parts);
}

/** Joins adjacent static parts and drops empty ones. */
function mergeStatic(parts: RoutePatternPart[]): RoutePatternPart[] {
  const out: RoutePatternPart[] = [];
  for (const part of parts) {
    const last = out[out.length - 1];
    if (part.kind === 'static') {
      if (part.text === '') continue;
      if (last !== undefined && last.kind === 'static') {
        out[out.length - 1] = { kind: 'static', text: last.text + part.text };
        continue;
      }
    }
    out.push(part);
  }
  return out;
}

function isParamName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
    if (!ok) return false;
  }
  return true;
}
