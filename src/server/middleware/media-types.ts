/**
 * Content-Type (RFC 9110 §8.3) for a file, from its extension: a small built-in table of the
 * types a web server meets most (pages, styles, scripts, data, images, fonts, media, archives).
 * Unknown extensions get `application/octet-stream` (RFC 2046 §4.5.1). Textual types carry
 * `charset=utf-8`.
 */

const UTF8 = '; charset=utf-8';

const TYPES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    html: `text/html${UTF8}`,
    htm: `text/html${UTF8}`,
    css: `text/css${UTF8}`,
    js: `text/javascript${UTF8}`,
    mjs: `text/javascript${UTF8}`,
    cjs: `text/javascript${UTF8}`,
    json: `application/json${UTF8}`,
    map: `application/json${UTF8}`,
    webmanifest: `application/manifest+json${UTF8}`,
    txt: `text/plain${UTF8}`,
    md: `text/markdown${UTF8}`,
    csv: `text/csv${UTF8}`,
    xml: `application/xml${UTF8}`,
    svg: `image/svg+xml${UTF8}`,
    ics: `text/calendar${UTF8}`,
    wasm: 'application/wasm',
    pdf: 'application/pdf',
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    gif: 'image/gif',
    webp: 'image/webp',
    avif: 'image/avif',
    ico: 'image/x-icon',
    bmp: 'image/bmp',
    woff: 'font/woff',
    woff2: 'font/woff2',
    ttf: 'font/ttf',
    otf: 'font/otf',
    mp3: 'audio/mpeg',
    ogg: 'audio/ogg',
    wav: 'audio/wav',
    mp4: 'video/mp4',
    webm: 'video/webm',
    zip: 'application/zip',
    gz: 'application/gzip',
    tar: 'application/x-tar',
    br: 'application/octet-stream',
  }),
);

/** The Content-Type for `fileName` by its extension (case-insensitive), or `application/octet-stream`. */
export function contentTypeFor(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  const slash = Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\'));
  if (dot <= slash + 1) return 'application/octet-stream'; // no extension, or a dotfile name
  return TYPES.get(fileName.slice(dot + 1).toLowerCase()) ?? 'application/octet-stream';
}
