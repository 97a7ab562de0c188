/**
 * The observable result of feeding bytes to an HTTP/1.x parser, recorded in a form that two runs
 * can be compared by: the messages (head, body, trailers, completeness), the error thrown (if
 * any), whether the parser handed the connection to another protocol and where. Used by the llhttp
 * conformance test, the fuzz test and the llhttp validation of the corpus loader; it drives any
 * parser with the `H1Parser` surface (our parser, or the adapter over Node's llhttp binding).
 */
import type { H1MessageHead, H1ParserHandler, H1ResponseBody } from '../../src/h1/h1-types.js';

/** The part of `H1Parser` that the recorder drives. */
export interface H1ParserSurface {
  execute(buf: Buffer): number;
  finish(): void;
  readonly upgraded: boolean;
}

/** One message as the handler saw it. */
export interface RecordedMessage {
  /** A copy of the head object passed to `onHead`. */
  head: H1MessageHead & Record<string, unknown>;
  /** Every body chunk, concatenated. */
  body: Buffer;
  /** The flattened trailer section, or null when `onTrailers` was not called. */
  trailers: string[] | null;
  /** `onMessageComplete` was called. */
  complete: boolean;
}

/** What was thrown by `execute` or `finish`. */
export interface RecordedError {
  /** The class name (`H1ParseError` for the expected kind). */
  name: string;
  code: string;
  offset: number;
  message: string;
  /** Thrown by `finish()` rather than `execute()`. */
  atFinish: boolean;
  /** The thrown value itself, for `instanceof` checks. */
  thrown: unknown;
}

/** The whole observable result of one run. */
export interface RecordedOutcome {
  messages: RecordedMessage[];
  error: RecordedError | null;
  upgraded: boolean;
  /** Input bytes consumed: the whole input, or the offset at which the parser handed over. */
  consumed: number;
  /** Sum of the lengths of the `onBody` chunks. */
  bodyBytes: number;
  /**
   * Every event in order, body chunks of one message coalesced, so that two runs over the same
   * bytes split differently must produce the same list.
   */
  events: string[];
}

/**
 * Errors for an exceeded size limit. Their offset is where the parser noticed the excess, which
 * may legitimately depend on how the input was split, so event lists record no offset for them.
 */
export const LIMIT_ERROR_CODES: ReadonlySet<string> = new Set([
  'AVX_H1_HEADER_TOO_LARGE',
  'AVX_H1_URI_TOO_LONG',
  'AVX_H1_TOO_MANY_HEADERS',
  'AVX_H1_CHUNK_EXTENSION_TOO_LARGE',
]);

/** How a run is steered. */
export interface RecordOptions {
  /** Call `finish()` after the last piece (end of input). */
  finish?: boolean;
  /** Value returned from `onHead` (a response handler steering the body). */
  onHeadResult?: H1ResponseBody | ((head: H1MessageHead) => H1ResponseBody | undefined);
  /**
   * Abort the run (with a RecordedError of name `EventBudgetExceeded`) once this many handler
   * calls have been made: a parser that reports endlessly is looping. Default: unlimited.
   */
  maxEvents?: number;
}

/** Thrown from the handler to stop a parser that reports more events than its input can justify. */
export class EventBudgetExceeded extends Error {
  readonly code = 'EVENT_BUDGET_EXCEEDED';
  readonly offset = -1;
}

/** Receives parser events and turns them into a {@link RecordedOutcome}. */
export class H1EventRecorder implements H1ParserHandler<H1MessageHead> {
  readonly messages: RecordedMessage[] = [];
  readonly events: string[] = [];
  bodyBytes = 0;
  private current: RecordedMessage | null = null;
  private bodyChunks: Buffer[] = [];
  private lastWasBody = false;
  private eventCount = 0;
  private readonly maxEvents: number;
  private readonly onHeadResult: RecordOptions['onHeadResult'];

  constructor(options: RecordOptions = {}) {
    this.maxEvents = options.maxEvents ?? Number.POSITIVE_INFINITY;
    this.onHeadResult = options.onHeadResult;
  }

  onHead(head: H1MessageHead): H1ResponseBody | undefined {
    this.count();
    this.flushBody();
    const copy = { ...head, headers: [...head.headers] } as RecordedMessage['head'];
    this.current = { head: copy, body: Buffer.alloc(0), trailers: null, complete: false };
    this.messages.push(this.current);
    this.events.push(`head ${JSON.stringify(copy)}`);
    const result = this.onHeadResult;
    return typeof result === 'function' ? result(head) : result;
  }

  onBody(chunk: Buffer): void {
    this.count();
    if (!Buffer.isBuffer(chunk)) throw new TypeError('onBody received a non-Buffer chunk');
    this.bodyBytes += chunk.length;
    this.bodyChunks.push(Buffer.from(chunk));
    if (!this.lastWasBody) {
      this.events.push('body');
      this.lastWasBody = true;
    }
  }

  onTrailers(trailers: string[]): void {
    this.count();
    this.flushBody();
    if (this.current !== null) this.current.trailers = [...trailers];
    this.events.push(`trailers ${JSON.stringify(trailers)}`);
  }

  onMessageComplete(): void {
    this.count();
    this.flushBody();
    if (this.current !== null) this.current.complete = true;
    this.current = null;
    this.events.push('complete');
  }

  /** Ends the recording: attaches pending body bytes to their message. */
  flushBody(): void {
    if (this.bodyChunks.length === 0) {
      this.lastWasBody = false;
      return;
    }
    const body = Buffer.concat(this.bodyChunks);
    this.bodyChunks = [];
    this.lastWasBody = false;
    // The body event was pushed as 'body'; give it its content now that it is whole.
    const at = this.events.lastIndexOf('body');
    this.events[at] = `body ${body.toString('latin1')}`;
    if (this.current !== null) this.current.body = Buffer.concat([this.current.body, body]);
  }

  private count(): void {
    if (++this.eventCount > this.maxEvents) throw new EventBudgetExceeded('parser reported too many events');
  }
}

function recordError(thrown: unknown, atFinish: boolean): RecordedError {
  const e = thrown as { name?: unknown; code?: unknown; offset?: unknown; message?: unknown } | null;
  const name =
    thrown instanceof Error ? thrown.constructor.name : typeof thrown === 'object' ? 'object' : typeof thrown;
  return {
    name: typeof e?.name === 'string' && !(thrown instanceof Error) ? e.name : name,
    code: typeof e?.code === 'string' ? e.code : '',
    offset: typeof e?.offset === 'number' ? e.offset : -1,
    message: typeof e?.message === 'string' ? e.message : String(thrown),
    atFinish,
    thrown,
  };
}

/**
 * Feeds `pieces` to a parser made by `makeParser` in order, stopping at an error or when the
 * parser switches protocols, then (if asked) signals end of input. Never throws for parser errors:
 * they are part of the outcome.
 */
export function recordRun(
  makeParser: (handler: H1ParserHandler<H1MessageHead>) => H1ParserSurface,
  pieces: readonly Buffer[],
  options: RecordOptions = {},
): RecordedOutcome {
  const recorder = new H1EventRecorder(options);
  const parser = makeParser(recorder);
  let consumed = 0;
  let error: RecordedError | null = null;
  let upgraded = false;
  try {
    for (const piece of pieces) {
      const n = parser.execute(piece);
      consumed += n;
      if (parser.upgraded) {
        upgraded = true;
        break;
      }
      if (n !== piece.length) {
        throw new Error(`execute consumed ${n} of ${piece.length} bytes without switching protocols`);
      }
    }
    if (!upgraded && options.finish === true) {
      try {
        parser.finish();
      } catch (thrown) {
        error = recordError(thrown, true);
      }
    }
  } catch (thrown) {
    error = recordError(thrown, false);
  }
  recorder.flushBody();
  const events = recorder.events;
  if (error !== null) {
    // A limit is noticed where the parser looks, which may depend on where the input was cut.
    const at = LIMIT_ERROR_CODES.has(error.code) ? 'limit' : String(error.offset);
    events.push(`error ${error.name} ${error.code} @${at}${error.atFinish ? ' (finish)' : ''}`);
  }
  if (upgraded) events.push(`upgrade @${consumed}`);
  return { messages: recorder.messages, error, upgraded, consumed, bodyBytes: recorder.bodyBytes, events };
}

/** Cuts `input` at the given offsets (sorted, duplicates allowed: they make empty pieces). */
export function splitAt(input: Buffer, offsets: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let start = 0;
  for (const cut of [...offsets].sort((a, b) => a - b)) {
    pieces.push(input.subarray(start, cut));
    start = cut;
  }
  pieces.push(input.subarray(start));
  return pieces;
}

/** Cuts `input` into one-byte pieces. */
export function splitBytewise(input: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let i = 0; i < input.length; i++) pieces.push(input.subarray(i, i + 1));
  return pieces;
}

/** A first difference between two event lists, for failure messages; null when they are equal. */
export function firstEventDifference(a: readonly string[], b: readonly string[]): string | null {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      return `event #${i}:\n    ${a[i] ?? '(none)'}\n  vs\n    ${b[i] ?? '(none)'}`;
    }
  }
  return null;
}
