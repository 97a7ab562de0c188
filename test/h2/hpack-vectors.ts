/**
 * Loads the hpack-test-case stories from `../shared/vectors/hpack/` (relative to the repo
 * root), read in place. When the folder is missing, tests skip with a message, except under
 * CI=true, where they fail.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

/** One header block of a story. */
export interface HpackCase {
  seqno?: number;
  header_table_size?: number;
  wire?: string;
  headers: Record<string, string>[];
}

/** One story: cases decoded in order with one context. */
export interface HpackStory {
  folder: string;
  file: string;
  cases: HpackCase[];
}

/** dist/test/h2/x.js -> the repo root is three levels up. */
export const HPACK_VECTORS_DIR = fileURLToPath(new URL('../../../../shared/vectors/hpack/', import.meta.url));

/** True when the vectors are present; otherwise skips `t` (or throws under CI=true). */
export function requireHpackVectors(t: TestContext): boolean {
  if (existsSync(HPACK_VECTORS_DIR)) return true;
  const message = `HPACK vectors not found at ${HPACK_VECTORS_DIR}`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must have them`);
  t.skip(message);
  return false;
}

/** Every story of `folder` (e.g. 'raw-data', 'nghttp2'). */
export function loadStories(folder: string): HpackStory[] {
  const dir = `${HPACK_VECTORS_DIR}${folder}/`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      folder,
      file,
      cases: JSON.parse(readFileSync(dir + file, 'utf8')).cases as HpackCase[],
    }));
}

/** The encoded folders (every folder but raw-data). */
export function encodedFolders(): string[] {
  return readdirSync(HPACK_VECTORS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'raw-data')
    .map((d) => d.name)
    .sort();
}

/** A case's headers as a flat list, values as latin1 strings of their UTF-8 bytes. */
export function flatHeaders(c: HpackCase): string[] {
  const flat: string[] = [];
  for (const h of c.headers) {
    for (const [name, value] of Object.entries(h)) {
      flat.push(Buffer.from(name, 'utf8').toString('latin1'), Buffer.from(value, 'utf8').toString('latin1'));
    }
  }
  return flat;
}
