/**
 * Which media types (RFC 9110 §8.3.1) are worth compressing: textual formats shrink a lot,
 * while images, audio, video, archives and web fonts are compressed already and would only
 * cost CPU. Types not known to be textual are left alone.
 */

/** `application/...` subtypes that are text in disguise. */
const TEXTUAL_APPLICATION = new Set([
  'json',
  'javascript',
  'x-javascript',
  'ecmascript',
  'xml',
  'xhtml+xml',
  'rss+xml',
  'atom+xml',
  'x-www-form-urlencoded',
  'graphql',
  'wasm',
  'x-ndjson',
  'ndjson',
  'jsonl',
  'yaml',
  'x-yaml',
  'toml',
  'sql',
  'csv',
  'rtf',
  'x-sh',
  'vnd.ms-fontobject',
  'x-font-ttf',
  'x-font-opentype',
  'manifest+json',
]);

/**
 * True when a body of `contentType` (a Content-Type field value, parameters allowed) should be
 * compressed: `text/*`, JSON and XML (including `+json` / `+xml` suffixes, RFC 6839), JavaScript,
 * SVG, uncompressed font formats and a few other textual `application/*` types.
 */
export function isCompressibleType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  let end = contentType.indexOf(';');
  if (end === -1) end = contentType.length;
  const type = contentType.slice(0, end).trim().toLowerCase();
  const slash = type.indexOf('/');
  if (slash <= 0) return false;
  const top = type.slice(0, slash);
  const sub = type.slice(slash + 1);
  if (top === 'text') return true;
  if (sub.endsWith('+json') || sub.endsWith('+xml')) return true;
  if (top === 'application') return TEXTUAL_APPLICATION.has(sub);
  if (top === 'image')
    return sub === 'svg+xml' || sub === 'x-icon' || sub === 'vnd.microsoft.icon' || sub === 'bmp';
  if (top === 'font') return sub === 'ttf' || sub === 'otf' || sub === 'sfnt';
  return false;
}
