/**
 * Loads the llhttp test corpus (`../shared/vectors/llhttp/{request,response}/*.md`, MIT, read in
 * place, never copied) and turns each case into wire bytes plus the observable result llhttp
 * expects: the messages (method and URL or status and reason, protocol, version, header fields,
 * body, trailers, completeness), and whether input is rejected, handed over to another protocol
 * (`Pause on CONNECT/Upgrade`, `Pause on PRI/Upgrade`) or, for `*-finish` cases, what ending the
 * input there means. llhttp's offsets and callback granularity are not part of the result, except
 * the offset of a protocol hand-over, which is where the other protocol's bytes start.
 *
 * Span bytes are taken from the input at the logged offsets, and checked against the logged text,
 * so a case whose log disagrees with its input fails loudly here instead of testing nonsense.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import type { H1Leniency } from '../../src/h1/h1-types.js';
import type { RecordedMessage, RecordedOutcome } from './h1-event-log.js';

/** One header (or trailer) field as llhttp reported it. */
export interface LlhttpExpectedField {
  name: Buffer;
  /** The value, leading and trailing SP/HTAB removed. */
  value: Buffer;
  /** The value was reported in pieces that are not adjacent in the input (obs-fold). */
  folded: boolean;
}

/** One message whose head llhttp completed. */
export interface LlhttpExpectedMessage {
  method: Buffer | null;
  url: Buffer | null;
  status: number | null;
  reason: Buffer | null;
  protocol: string;
  versionMajor: number;
  versionMinor: number;
  headers: LlhttpExpectedField[];
  /** Fields after the last chunk, or null when there were none. */
  trailers: LlhttpExpectedField[] | null;
  body: Buffer;
  complete: boolean;
  /** The Content-Length llhttp saw, or -1 when the message has none. */
  contentLength: number;
  /** llhttp's F_CHUNKED flag: the final transfer coding is chunked. */
  chunked: boolean;
}

/** The observable result llhttp expects for a case, after `finish()` for `*-finish` cases. */
export interface LlhttpExpectation {
  messages: LlhttpExpectedMessage[];
  /** The input is rejected (llhttp error, or `finish()` in an unsafe state: code 14). */
  error: { offset: number; code: number; reason: string } | null;
  /** The parser handed the connection over at `offset` (code 22 CONNECT/Upgrade, 23 PRI). */
  upgrade: { offset: number; code: number } | null;
  /** For `*-finish` cases, llhttp's finish state: 0 safe, 1 safe and completes a message, 2 unsafe. */
  finishState: number | null;
}

/** One case of the corpus. */
export interface LlhttpCase {
  /** The section heading. */
  name: string;
  /** Path relative to the corpus folder, e.g. `request/sample.md`. */
  file: string;
  /** 1-based line of the meta comment. */
  line: number;
  /** `meta.type` as written (`request`, `response-lenient-keep-alive`, `request-finish`, ...). */
  type: string;
  kind: 'request' | 'response';
  /** The leniency named by the type (`headers`, `keep-alive`, `all`, ...), or null. */
  lenient: string | null;
  /** Call `finish()` after the input. */
  finish: boolean;
  meta: Record<string, unknown>;
  input: Buffer;
  expected: LlhttpExpectation;
  /** The raw log lines. */
  log: string[];
}

/** The project root, from this module's compiled location `dist/test/h1/`. */
export function projectRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** The corpus folder: `$AVX_VECTORS_DIR/llhttp` when set, else `<root>/../shared/vectors/llhttp`. */
export function llhttpCorpusDir(): string {
  const base = process.env.AVX_VECTORS_DIR ?? join(projectRoot(), '..', 'shared', 'vectors');
  return join(base, 'llhttp');
}

/** Whether the corpus is present. */
export function llhttpCorpusPresent(dir: string = llhttpCorpusDir()): boolean {
  return existsSync(join(dir, 'request')) && existsSync(join(dir, 'response'));
}

/** Our leniency options for an llhttp leniency name; `all` turns every one on. */
export function leniencyFor(name: string): H1Leniency {
  const all: Required<H1Leniency> = {
    headers: true,
    headerValueRelaxed: true,
    chunkedLength: true,
    keepAlive: true,
    transferEncoding: true,
    version: true,
    dataAfterClose: true,
    optionalLfAfterCr: true,
    optionalCrBeforeLf: true,
    optionalCrlfAfterChunk: true,
    spacesAfterChunkSize: true,
  };
  if (name === 'all') return all;
  const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof H1Leniency;
  if (!(key in all)) throw new Error(`unknown llhttp leniency ${JSON.stringify(name)}`);
  return { [key]: true };
}

/** Turns an `http` block into wire bytes the way llhttp's own test harness does. */
export function httpBlockToBytes(block: string): Buffer {
  let s = block.replace(/\n$/, '');
  s = s.replace(/\\(\r\n|\r|\n)/g, '');
  s = s.replace(/\r\n|\r|\n/g, '\r\n');
  s = s.replace(/\\r/g, '\r');
  s = s.replace(/\\n/g, '\n');
  s = s.replace(/\\t/g, '\t');
  s = s.replace(/\\f/g, '\f');
  s = s.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  s = s.replace(/\\([0-7]{1,3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
  s = s.replace(/\$\{(.+?)\}/g, (_, code: string) => String(runInNewContext(code)));
  // llhttp's harness hands the string to its fixture as UTF-8 (the logged offsets say so: `\xff`
  // is two bytes there), so a code point above 0x7f becomes its UTF-8 bytes.
  return Buffer.from(s, 'utf8');
}

interface FieldBuilder {
  name: Buffer[];
  nameEnd: number;
  value: Buffer[] | null;
  valueEnd: number;
  folded: boolean;
}

interface MessageBuilder {
  method: Buffer[] | null;
  url: Buffer[] | null;
  protocol: Buffer[];
  version: Buffer[];
  reason: Buffer[] | null;
  headers: FieldBuilder[];
  trailers: FieldBuilder[];
  body: Buffer[];
  lastField: 'name' | 'value' | null;
  headDone: boolean;
  complete: boolean;
  status: number | null;
  versionMajor: number;
  versionMinor: number;
  contentLength: number;
  chunked: boolean;
}

const F_CHUNKED = 0x08;
const F_CONTENT_LENGTH = 0x20;
const UPGRADE_CODES = new Set([22, 23]);

function trimOws(b: Buffer): Buffer {
  let start = 0;
  let end = b.length;
  while (start < end && (b[start] === 0x20 || b[start] === 0x09)) start++;
  while (end > start && (b[end - 1] === 0x20 || b[end - 1] === 0x09)) end--;
  return b.subarray(start, end);
}

function buildFields(fields: FieldBuilder[]): LlhttpExpectedField[] {
  return fields.map((f) => ({
    name: Buffer.concat(f.name),
    value: trimOws(Buffer.concat(f.value ?? [])),
    folded: f.folded,
  }));
}

/** Reads a `log` block into the expected observable result; throws on a line it does not know. */
export function parseLlhttpLog(
  log: readonly string[],
  input: Buffer,
  kind: 'request' | 'response',
): LlhttpExpectation {
  const messages: MessageBuilder[] = [];
  let current: MessageBuilder | null = null;
  let error: LlhttpExpectation['error'] = null;
  let upgrade: LlhttpExpectation['upgrade'] = null;
  let finishState: number | null = null;

  const begin = (): MessageBuilder => ({
    method: kind === 'request' ? [] : null,
    url: kind === 'request' ? [] : null,
    protocol: [],
    version: [],
    reason: kind === 'response' ? [] : null,
    headers: [],
    trailers: [],
    body: [],
    lastField: null,
    headDone: false,
    complete: false,
    status: null,
    versionMajor: -1,
    versionMinor: -1,
    contentLength: -1,
    chunked: false,
  });

  for (const line of log) {
    if (error !== null || upgrade !== null) throw new Error(`log continues after the error: ${line}`);
    let m = /^off=NULL finish=(\d+)$/.exec(line);
    if (m !== null) {
      finishState = Number(m[1]);
      continue;
    }
    m = /^off=(\d+) (.*)$/.exec(line);
    if (m === null) throw new Error(`unrecognised log line: ${line}`);
    const off = Number(m[1]);
    const rest = m[2]!;
    if (rest === 'message begin') {
      current = begin();
      continue;
    }
    if (
      rest === 'reset' ||
      rest === 'pause' ||
      rest === 'skip body' ||
      rest === 'chunk complete' ||
      /^(method|url|protocol|version|status|header_field|header_value|chunk_extension_name|chunk_extension_value) complete$/.test(
        rest,
      ) ||
      /^chunk header len=\d+$/.test(rest)
    ) {
      continue;
    }
    m = /^len=(\d+) span\[([a-z_]+)\]=(?:"(.*)"|(cr|lf))$/.exec(rest);
    if (m !== null) {
      const len = Number(m[1]);
      const what = m[2]!;
      const bytes = input.subarray(off, off + len);
      const expectedText =
        m[3] !== undefined ? m[3].replace(/\\t/g, '\t').replace(/\\f/g, '\f') : m[4] === 'cr' ? '\r' : '\n';
      if (bytes.length !== len || bytes.toString('utf8') !== expectedText) {
        throw new Error(
          `span does not match the input at ${off}+${len}: ${line} (input has ${JSON.stringify(bytes.toString('utf8'))})`,
        );
      }
      if (current === null) throw new Error(`span outside a message: ${line}`);
      const msg = current;
      const end = off + len;
      switch (what) {
        case 'method':
          msg.method?.push(bytes);
          break;
        case 'url':
          msg.url?.push(bytes);
          break;
        case 'protocol':
          msg.protocol.push(bytes);
          break;
        case 'version':
          msg.version.push(bytes);
          break;
        case 'status':
          msg.reason?.push(bytes);
          break;
        case 'header_field': {
          const fields = msg.headDone ? msg.trailers : msg.headers;
          const last = fields[fields.length - 1];
          if (msg.lastField === 'name' && last !== undefined && last.nameEnd === off) {
            last.name.push(bytes);
            last.nameEnd = end;
          } else {
            fields.push({ name: [bytes], nameEnd: end, value: null, valueEnd: -1, folded: false });
          }
          msg.lastField = 'name';
          break;
        }
        case 'header_value': {
          const fields = msg.headDone ? msg.trailers : msg.headers;
          const last = fields[fields.length - 1];
          if (last === undefined) throw new Error(`header value without a name: ${line}`);
          if (last.value === null) {
            last.value = [bytes];
          } else {
            if (last.valueEnd !== off) {
              last.folded = true;
              last.value.push(Buffer.from(' '));
            }
            last.value.push(bytes);
          }
          last.valueEnd = end;
          msg.lastField = 'value';
          break;
        }
        case 'body':
          msg.body.push(bytes);
          break;
        case 'chunk_extension_name':
        case 'chunk_extension_value':
          break;
        default:
          throw new Error(`unknown span kind: ${line}`);
      }
      continue;
    }
    m =
      /^headers complete (?:method=(\d+)|status=(\d+)) v=(\d+)\/(\d+) flags=([0-9a-f]+) content_length=(\d+)$/.exec(
        rest,
      );
    if (m !== null) {
      if (current === null) throw new Error(`headers complete outside a message: ${line}`);
      const flags = Number.parseInt(m[5]!, 16);
      current.headDone = true;
      current.lastField = null;
      current.status = m[2] !== undefined ? Number(m[2]) : null;
      current.versionMajor = Number(m[3]);
      current.versionMinor = Number(m[4]);
      current.contentLength = (flags & F_CONTENT_LENGTH) !== 0 ? Number(m[6]) : -1;
      current.chunked = (flags & F_CHUNKED) !== 0;
      messages.push(current);
      continue;
    }
    if (rest === 'message complete') {
      if (current === null) throw new Error(`message complete outside a message: ${line}`);
      current.complete = true;
      continue;
    }
    m = /^error code=(\d+) reason="(.*)"$/.exec(rest);
    if (m !== null) {
      const code = Number(m[1]);
      if (UPGRADE_CODES.has(code)) upgrade = { offset: off, code };
      else error = { offset: off, code, reason: m[2]! };
      continue;
    }
    throw new Error(`unrecognised log line: ${line}`);
  }

  const built: LlhttpExpectedMessage[] = messages.map((b) => ({
    method: b.method === null ? null : Buffer.concat(b.method),
    url: b.url === null ? null : Buffer.concat(b.url),
    status: b.status,
    reason: b.reason === null ? null : Buffer.concat(b.reason),
    protocol: Buffer.concat(b.protocol).toString('latin1'),
    versionMajor: b.versionMajor,
    versionMinor: b.versionMinor,
    headers: buildFields(b.headers),
    trailers: b.trailers.length === 0 ? null : buildFields(b.trailers),
    body: Buffer.concat(b.body),
    complete: b.complete,
    contentLength: b.contentLength,
    chunked: b.chunked,
  }));

  // What the end of input means for `*-finish` cases: 1 completes the open message, 2 rejects.
  if (finishState === 1) {
    const last = built[built.length - 1];
    if (last !== undefined && !last.complete) last.complete = true;
  } else if (finishState === 2) {
    error = { offset: input.length, code: 14, reason: 'Invalid EOF state' };
  }
  return { messages: built, error, upgrade, finishState };
}

function parseCaseType(type: string): {
  kind: 'request' | 'response';
  lenient: string | null;
  finish: boolean;
} {
  const m = /^(request|response)(?:-(only|finish|lenient-([a-z-]+)))?$/.exec(type);
  if (m === null) throw new Error(`unknown llhttp case type ${JSON.stringify(type)}`);
  return { kind: m[1] as 'request' | 'response', lenient: m[3] ?? null, finish: m[2] === 'finish' };
}

/** Reads one markdown file of the corpus. */
export function loadLlhttpFile(dir: string, file: string): LlhttpCase[] {
  const lines = readFileSync(join(dir, file), 'utf8').split('\n');
  const cases: LlhttpCase[] = [];
  let heading = '';
  let pending: { meta: Record<string, unknown>; line: number; name: string; http: string | null } | null =
    null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const h = /^#{1,6}\s+(.*?)\s*$/.exec(line);
    if (h !== null) {
      heading = h[1]!;
      continue;
    }
    const meta = /^<!--\s*meta=(\{.*\})\s*-->\s*$/.exec(line);
    if (meta !== null) {
      if (pending !== null) throw new Error(`${file}:${pending.line}: meta without its http and log blocks`);
      pending = {
        meta: JSON.parse(meta[1]!) as Record<string, unknown>,
        line: i + 1,
        name: heading,
        http: null,
      };
      continue;
    }
    const fence = /^```(http|log)\s*$/.exec(line);
    if (fence === null) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !/^```\s*$/.test(lines[j]!)) body.push(lines[j++]!);
    if (j >= lines.length) throw new Error(`${file}:${i + 1}: unterminated code block`);
    i = j;
    if (pending === null) throw new Error(`${file}:${i + 1}: code block outside a case`);
    if (fence[1] === 'http') {
      pending.http = `${body.join('\n')}\n`;
      continue;
    }
    if (pending.http === null) throw new Error(`${file}:${pending.line}: log before http block`);
    const type = String(pending.meta.type);
    const { kind, lenient, finish } = parseCaseType(type);
    const input = httpBlockToBytes(pending.http);
    let expected: LlhttpExpectation;
    try {
      expected = parseLlhttpLog(body, input, kind);
    } catch (e) {
      throw new Error(`${file}:${pending.line} (${pending.name}): ${(e as Error).message}`);
    }
    cases.push({
      name: pending.name,
      file,
      line: pending.line,
      type,
      kind,
      lenient,
      finish,
      meta: pending.meta,
      input,
      expected,
      log: body,
    });
    pending = null;
  }
  if (pending !== null) throw new Error(`${file}:${pending.line}: case without a log block`);
  return cases;
}

/** Reads every case of the corpus, in file order (request files first). */
export function loadLlhttpCorpus(dir: string = llhttpCorpusDir()): LlhttpCase[] {
  const cases: LlhttpCase[] = [];
  for (const sub of ['request', 'response']) {
    const files = readdirSync(join(dir, sub))
      .filter((f) => f.endsWith('.md'))
      .sort();
    for (const f of files) cases.push(...loadLlhttpFile(dir, `${sub}/${f}`));
  }
  return cases;
}

/** A short printable label for a case. */
export function caseLabel(c: LlhttpCase): string {
  return `${c.file}:${c.line} ${c.name} [${c.type}]`;
}

/** How strictly {@link compareWithLlhttp} compares. */
export interface CompareOptions {
  /** The parser reports `protocol` (llhttp's binding does not). Default true. */
  protocol?: boolean;
  /** The parser reports `contentLength` and `chunked` (llhttp's binding does not). Default true. */
  framing?: boolean;
  /** Check the offset of a protocol hand-over. Default true. */
  upgradeOffset?: boolean;
}

/** A string that decodes `expected` as Latin-1 or as UTF-8 matches it. */
export function sameText(actual: unknown, expected: Buffer): boolean {
  return actual === expected.toString('latin1') || actual === expected.toString('utf8');
}

function collapseWhitespace(s: string): string {
  return s.replace(/[ \t]+/g, ' ').trim();
}

function show(b: Buffer | null): string {
  return b === null ? 'null' : JSON.stringify(b.toString('latin1'));
}

function compareFields(
  where: string,
  expected: LlhttpExpectedField[] | null,
  actual: string[] | null,
  problems: string[],
): void {
  const exp = expected ?? [];
  const act = actual ?? [];
  if (act.length !== exp.length * 2) {
    problems.push(
      `${where}: ${act.length / 2} fields, expected ${exp.length}: got ${JSON.stringify(act)}, expected ${JSON.stringify(
        exp.map((f) => [f.name.toString('latin1'), f.value.toString('latin1')]),
      )}`,
    );
    return;
  }
  exp.forEach((f, i) => {
    const name = act[i * 2];
    const value = act[i * 2 + 1];
    if (!sameText(name, f.name))
      problems.push(`${where}[${i}] name ${JSON.stringify(name)}, expected ${show(f.name)}`);
    const valueOk = f.folded
      ? typeof value === 'string' &&
        (collapseWhitespace(value) === collapseWhitespace(f.value.toString('latin1')) ||
          collapseWhitespace(value) === collapseWhitespace(f.value.toString('utf8')))
      : sameText(value, f.value);
    if (!valueOk) {
      problems.push(
        `${where}[${i}] ${show(f.name)} value ${JSON.stringify(value)}, expected ${show(f.value)}${f.folded ? ' (folded)' : ''}`,
      );
    }
  });
}

function compareMessage(
  i: number,
  exp: LlhttpExpectedMessage,
  act: RecordedMessage,
  kind: 'request' | 'response',
  options: CompareOptions,
  problems: string[],
): void {
  const where = `message ${i}`;
  const head = act.head;
  if (kind === 'request') {
    if (!sameText(head.method, exp.method!))
      problems.push(`${where}: method ${JSON.stringify(head.method)}, expected ${show(exp.method)}`);
    if (!sameText(head.url, exp.url!))
      problems.push(`${where}: url ${JSON.stringify(head.url)}, expected ${show(exp.url)}`);
  } else {
    if (head.status !== exp.status)
      problems.push(`${where}: status ${String(head.status)}, expected ${exp.status}`);
    if (!sameText(head.reason, exp.reason!))
      problems.push(`${where}: reason ${JSON.stringify(head.reason)}, expected ${show(exp.reason)}`);
  }
  if (head.versionMajor !== exp.versionMajor || head.versionMinor !== exp.versionMinor) {
    problems.push(
      `${where}: version ${head.versionMajor}.${head.versionMinor}, expected ${exp.versionMajor}.${exp.versionMinor}`,
    );
  }
  if (options.protocol !== false && head.protocol !== exp.protocol) {
    problems.push(
      `${where}: protocol ${JSON.stringify(head.protocol)}, expected ${JSON.stringify(exp.protocol)}`,
    );
  }
  compareFields(`${where} headers`, exp.headers, head.headers, problems);
  if (options.framing !== false) {
    if (head.chunked !== exp.chunked)
      problems.push(`${where}: chunked ${String(head.chunked)}, expected ${exp.chunked}`);
    if (!exp.chunked && head.contentLength !== exp.contentLength) {
      problems.push(`${where}: contentLength ${String(head.contentLength)}, expected ${exp.contentLength}`);
    }
  }
  if (!act.body.equals(exp.body)) {
    problems.push(
      `${where}: body ${JSON.stringify(act.body.toString('latin1'))}, expected ${JSON.stringify(exp.body.toString('latin1'))}`,
    );
  }
  if ((exp.trailers === null) !== (act.trailers === null) || exp.trailers !== null) {
    compareFields(`${where} trailers`, exp.trailers, act.trailers, problems);
  }
  if (act.complete !== exp.complete)
    problems.push(`${where}: complete ${act.complete}, expected ${exp.complete}`);
}

/**
 * Compares a recorded run with llhttp's expectation; returns the differences (empty: agreed).
 * For rejected input only the completed messages are compared: whether a head or body bytes
 * were reported before the rejection is the parser's own business.
 */
export function compareWithLlhttp(
  c: LlhttpCase,
  outcome: RecordedOutcome,
  options: CompareOptions = {},
): string[] {
  const problems: string[] = [];
  const exp = c.expected;
  if (exp.error !== null) {
    if (outcome.error === null) {
      problems.push(
        `expected rejection (llhttp code ${exp.error.code} "${exp.error.reason}" at ${exp.error.offset}), but input was accepted`,
      );
    }
    if (outcome.upgraded) problems.push('expected rejection, but the parser switched protocols');
    const expComplete = exp.messages.filter((m) => m.complete);
    const actComplete = outcome.messages.filter((m) => m.complete);
    if (expComplete.length !== actComplete.length) {
      problems.push(
        `${actComplete.length} complete messages before the error, expected ${expComplete.length}`,
      );
    } else {
      for (const [i, m] of expComplete.entries())
        compareMessage(i, m, actComplete[i]!, c.kind, options, problems);
    }
    return problems;
  }
  if (outcome.error !== null) {
    problems.push(
      `unexpected rejection: ${outcome.error.name} ${outcome.error.code} at ${outcome.error.offset}: ${outcome.error.message}`,
    );
  }
  if (exp.upgrade !== null) {
    if (!outcome.upgraded)
      problems.push(`expected a protocol switch at ${exp.upgrade.offset} (llhttp code ${exp.upgrade.code})`);
    else if (options.upgradeOffset !== false && outcome.consumed !== exp.upgrade.offset) {
      problems.push(`switched protocols after ${outcome.consumed} bytes, expected ${exp.upgrade.offset}`);
    }
  } else if (outcome.upgraded) {
    problems.push(`unexpected protocol switch after ${outcome.consumed} bytes`);
  }
  if (outcome.messages.length !== exp.messages.length) {
    problems.push(
      `${outcome.messages.length} messages, expected ${exp.messages.length}: got ${JSON.stringify(
        outcome.messages.map((m) => [m.head, m.body.toString('latin1'), m.complete]),
      )}`,
    );
    return problems;
  }
  for (const [i, m] of exp.messages.entries())
    compareMessage(i, m, outcome.messages[i]!, c.kind, options, problems);
  return problems;
}
