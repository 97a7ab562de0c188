/**
 * Loads the QPACK offline-interop vectors from `../shared/vectors/qpack/` (relative to the repo
 * root), read in place: the QIF header lists, the encoded files of `encoded/qpack-05/<encoder>/`
 * and the inputs of `encoded/errors/`. When the folder is missing, tests skip with a message,
 * except under CI=true, where they fail.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

/** dist/test/h3/x.js -> the repo root is three levels up. */
export const QPACK_VECTORS_DIR = fileURLToPath(new URL('../../../../shared/vectors/qpack/', import.meta.url));

/** True when the vectors are present; otherwise skips `t` (or throws under CI=true). */
export function requireQpackVectors(t: TestContext): boolean {
  if (existsSync(QPACK_VECTORS_DIR)) return true;
  const message = `QPACK vectors not found at ${QPACK_VECTORS_DIR}`;
  if (process.env.CI === 'true') throw new Error(`${message}; CI must have them`);
  t.skip(message);
  return false;
}

/** One block of an encoded file: bytes for the decoder on a stream (0 = the encoder stream). */
export interface QpackBlock {
  streamId: number;
  bytes: Buffer;
}

/** One encoded file and the settings its name gives. */
export interface QpackEncodedFile {
  encoder: string;
  file: string;
  path: string;
  /** The QIF it encodes (`netbsd` for `netbsd.out.256.100.0`). */
  qif: string;
  tableCapacity: number;
  maxBlockedStreams: number;
  immediateAck: boolean;
}

/**
 * A QIF file's header sets: one field per line `name<TAB>value`, an empty line ends a set,
 * `#` lines are comments. Fields come back as a flat `[name, value, ...]` list of latin1
 * strings of the UTF-8 bytes (the decoder's representation).
 */
export function loadQif(name: string): string[][] {
  const text = readFileSync(`${QPACK_VECTORS_DIR}qifs/${name}.qif`).toString('latin1');
  const sets: string[][] = [];
  let current: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    if (line === '') {
      if (current.length > 0) sets.push(current);
      current = [];
      continue;
    }
    const tab = line.indexOf('\t');
    if (tab === -1) current.push(line, '');
    else current.push(line.slice(0, tab), line.slice(tab + 1));
  }
  if (current.length > 0) sets.push(current);
  return sets;
}

/** Names of the QIF files (without `.qif`). */
export function qifNames(): string[] {
  return readdirSync(`${QPACK_VECTORS_DIR}qifs/`)
    .filter((f) => f.endsWith('.qif'))
    .map((f) => f.slice(0, -4))
    .sort();
}

/** Every file of `encoded/qpack-05/*\/`. */
export function encodedFiles(): QpackEncodedFile[] {
  const root = `${QPACK_VECTORS_DIR}encoded/qpack-05/`;
  const files: QpackEncodedFile[] = [];
  for (const encoder of readdirSync(root).sort()) {
    for (const file of readdirSync(`${root}${encoder}/`).sort()) {
      const m = /^(.+)\.out\.(\d+)\.(\d+)\.([01])$/.exec(file);
      if (m === null) continue;
      files.push({
        encoder,
        file,
        path: `${root}${encoder}/${file}`,
        qif: m[1]!,
        tableCapacity: Number(m[2]),
        maxBlockedStreams: Number(m[3]),
        immediateAck: m[4] === '1',
      });
    }
  }
  return files;
}

/** Paths of `encoded/errors/err*`. */
export function errorFiles(): string[] {
  const dir = `${QPACK_VECTORS_DIR}encoded/errors/`;
  return readdirSync(dir)
    .filter((f) => f.startsWith('err'))
    .sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)))
    .map((f) => dir + f);
}

/**
 * The blocks of an encoded file: stream id (uint64 BE), length (uint32 BE), bytes. Throws on
 * a block that runs past the end of the file.
 */
export function readBlocks(path: string): QpackBlock[] {
  const data = readFileSync(path);
  const blocks: QpackBlock[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (offset + 12 > data.length) throw new Error(`${path}: truncated block header at ${offset}`);
    const streamId = Number(data.readBigUInt64BE(offset));
    const length = data.readUInt32BE(offset + 8);
    offset += 12;
    if (offset + length > data.length) throw new Error(`${path}: block at ${offset - 12} runs past the end`);
    blocks.push({ streamId, bytes: data.subarray(offset, offset + length) });
    offset += length;
  }
  return blocks;
}
