/**
 * Loads the AWS Signature Version 4 test suite from `../shared/vectors/sigv4/v4/` (relative to
 * the repo root), read in place. When the folder is missing, tests skip with a message, except
 * under CI=true, where they fail.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

/** dist/test/client/aws/x.js -> the repo root is four levels up. */
export const SIGV4_VECTORS_DIR = fileURLToPath(
  new URL('../../../../../shared/vectors/sigv4/v4/', import.meta.url),
);

/** True when the vectors are present; otherwise skips `t` (or throws under CI=true). */
export function requireSigv4Vectors(t: TestContext): boolean {
  if (existsSync(SIGV4_VECTORS_DIR)) return true;
  const message = `SigV4 vectors not found at ${SIGV4_VECTORS_DIR}`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must have them`);
  t.skip(message);
  return false;
}

/** A request as request.txt and *-signed-request.txt write it. */
export interface RawRequest {
  method: string;
  /** The request target as written: path, then `?query` if any (raw, possibly unencoded). */
  target: string;
  path: string;
  query: string;
  /** `[name, value]` with obs-fold continuation lines joined by a space (RFC 9112 §5.2). */
  headers: [string, string][];
  body: string;
}

/** One case: its context and expected outputs for both signing styles. */
export interface Sigv4Case {
  name: string;
  context: {
    credentials: { access_key_id: string; secret_access_key: string; token?: string };
    expiration_in_seconds: number;
    normalize: boolean;
    region: string;
    service: string;
    sign_body: boolean;
    timestamp: string;
    omit_session_token?: boolean;
  };
  request: RawRequest;
  expected: Record<
    'header' | 'query',
    { canonicalRequest: string; stringToSign: string; signature: string; signedRequest: RawRequest }
  >;
}

/** Parses a request.txt-style request: LF line ends, `Name:value` fields, then the body. */
export function parseRawRequest(text: string): RawRequest {
  const blank = text.indexOf('\n\n');
  const head = blank === -1 ? text : text.slice(0, blank);
  const body = blank === -1 ? '' : text.slice(blank + 2);
  const lines = head.split('\n');
  const requestLine = lines[0]!;
  const method = requestLine.slice(0, requestLine.indexOf(' '));
  const target = requestLine.slice(method.length + 1, requestLine.lastIndexOf(' '));
  const q = target.indexOf('?');
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      headers[headers.length - 1]![1] += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    headers.push([line.slice(0, colon), line.slice(colon + 1)]);
  }
  return {
    method,
    target,
    path: q === -1 ? target : target.slice(0, q),
    query: q === -1 ? '' : target.slice(q + 1),
    headers,
    body,
  };
}

/** Every case of the suite, sorted by name. */
export function loadSigv4Cases(): Sigv4Case[] {
  return readdirSync(SIGV4_VECTORS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const read = (file: string) => readFileSync(`${SIGV4_VECTORS_DIR}${name}/${file}`, 'utf8');
      const style = (prefix: 'header' | 'query') => ({
        canonicalRequest: read(`${prefix}-canonical-request.txt`),
        stringToSign: read(`${prefix}-string-to-sign.txt`),
        signature: read(`${prefix}-signature.txt`).trim(),
        signedRequest: parseRawRequest(read(`${prefix}-signed-request.txt`)),
      });
      return {
        name,
        context: JSON.parse(read('context.json')),
        request: parseRawRequest(read('request.txt')),
        expected: { header: style('header'), query: style('query') },
      };
    });
}
