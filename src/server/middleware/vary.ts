/**
 * Adding a field name to a response's `Vary` (RFC 9110 §12.5.5), as the middleware that make a
 * response depend on a request field (CORS on `Origin`, compression on `Accept-Encoding`) must,
 * so that caches store one response per value of that field.
 */
import type { Headers } from '../../core/headers.js';

/**
 * Appends `name` to `Vary` unless it is already listed (compared case-insensitively) or
 * `Vary: *` is set, which already covers every field.
 */
export function addVary(headers: Headers, name: string): void {
  const current = headers.get('vary');
  if (current === undefined || current === '') {
    headers.set('vary', name);
    return;
  }
  const wanted = name.toLowerCase();
  let start = 0;
  const n = current.length;
  while (start <= n) {
    let end = current.indexOf(',', start);
    if (end === -1) end = n;
    const item = current.slice(start, end).trim().toLowerCase();
    if (item === '*' || item === wanted) return;
    start = end + 1;
  }
  headers.set('vary', `${current}, ${name}`);
}
