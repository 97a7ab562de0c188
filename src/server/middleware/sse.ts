/**
 * Server-Sent Events (WHATWG HTML §9.2, `text/event-stream`): `sse(req, source)` returns a
 * Response whose body is the event stream produced from an async generator.
 *
 *   app.get('/events', (req) => sse(req, async function* (lastEventId, signal) {
 *     yield { event: 'tick', data: { now: Date.now() }, id: '1' };
 *   }));
 *
 * - Each yielded event becomes `event:` / `id:` / `retry:` / `data:` lines and a blank line
 *   (HTML §9.2.6). Multi-line data becomes one `data:` line per line (CR, LF and CRLF all
 *   split, as the client's parser does). Data that is not a string is sent as JSON. A yielded
 *   string is data alone.
 * - `event` and `id` may not contain CR or LF (nor `id` NUL, which clients ignore): such an
 *   event fails the stream with {@link SseFieldError}, rather than let data forge fields.
 * - A comment line `: ping` goes out whenever nothing was sent for `heartbeatMs`, so proxies
 *   and clients keep an idle stream open. Heartbeats are timed on the project's TimerWheel.
 * - The client's `Last-Event-ID` (sent when it reconnects) is passed to the source, with an
 *   AbortSignal that fires when the client goes away.
 * - Teardown: when the client disconnects (`req.signal` aborts) or the driver stops reading
 *   (calls the body's `return()`), the heartbeat stops and the source's `return()` is called,
 *   so the generator's `finally` blocks run (after its current `await`, if it is in one).
 * - The source is started on the first read of the body, not when `sse()` is called.
 */
import { AvxError } from '../../core/errors.js';
import { Headers, type HeadersInit } from '../../core/headers.js';
import { defaultTimerWheel, type TimerHandle, type TimerWheel } from '../../runtime/timer-wheel.js';
import type { Request } from '../request.js';
import { Response } from '../response.js';

/** One event to send. Every field is optional. */
export interface SseEvent {
  /** The payload: a string as is, anything else as JSON. */
  data?: unknown;
  /** The event type (the client's `addEventListener(type)`); default on the client: `message`. */
  event?: string;
  /** The event id; the client sends the last one back as `Last-Event-ID` when it reconnects. */
  id?: string;
  /** Reconnection delay the client should use, in milliseconds (a non-negative integer). */
  retry?: number;
  /** A comment, ignored by clients (one `:` line per line). */
  comment?: string;
}

/** Makes the events: called once, on the first read, with the client's Last-Event-ID. */
export type SseSource = (
  lastEventId: string | undefined,
  signal: AbortSignal,
) => AsyncIterable<SseEvent | string>;

/** Options of {@link sse}. */
export interface SseOptions {
  /** Send `: ping` after this many milliseconds without output; 0 turns heartbeats off. Default 15000. */
  heartbeatMs?: number;
  /** The wheel heartbeats are timed on. Default `defaultTimerWheel()`. */
  timerWheel?: TimerWheel;
  /** Send `retry: <ms>` first, setting the client's reconnection delay. Default: not sent. */
  retry?: number;
  /** Extra response header fields (they may override the defaults below). */
  headers?: HeadersInit;
}

/** An event has a field the event-stream format cannot carry. */
export class SseFieldError extends AvxError {
  constructor(message: string) {
    super('AVX_SSE_INVALID_FIELD', message);
  }
}

const HEARTBEAT = ': ping\n\n';
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

function hasLineBreak(value: string, rejectNul: boolean): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0a || c === 0x0d || (rejectNul && c === 0)) return true;
  }
  return false;
}

/** `prefix` + each line of `text` + LF, splitting at CRLF, CR and LF (HTML §9.2.5). */
function lines(prefix: string, text: string): string {
  let out = '';
  let start = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) {
      out += `${prefix}${text.slice(start, i)}\n`;
      if (c === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
      start = i + 1;
    }
  }
  return `${out}${prefix}${text.slice(start)}\n`;
}

/** The event-stream text of one event, ending with the blank line that dispatches it. */
export function formatSseEvent(event: SseEvent | string): string {
  if (typeof event === 'string') return `${lines('data: ', event)}\n`;
  let out = '';
  if (event.comment !== undefined) out += lines(': ', event.comment);
  if (event.event !== undefined) {
    if (hasLineBreak(event.event, false))
      throw new SseFieldError('an SSE event type may not contain CR or LF');
    out += `event: ${event.event}\n`;
  }
  if (event.id !== undefined) {
    if (hasLineBreak(event.id, true))
      throw new SseFieldError('an SSE event id may not contain CR, LF or NUL');
    out += `id: ${event.id}\n`;
  }
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw new SseFieldError('an SSE retry must be a non-negative integer (milliseconds)');
    }
    out += `retry: ${event.retry}\n`;
  }
  if (event.data !== undefined) {
    out += lines('data: ', typeof event.data === 'string' ? event.data : String(JSON.stringify(event.data)));
  }
  return `${out}\n`;
}

function onHeartbeatTimer(stream: SseEventStream): void {
  stream.heartbeat();
}

/**
 * The body of an SSE response: an async iterator of event-stream text that interleaves the
 * source's events with heartbeats and tears the source down when the client goes away.
 */
class SseEventStream implements AsyncIterableIterator<string> {
  private iterator: AsyncIterator<SseEvent | string> | undefined;
  private started = false;
  private finished = false;
  /** A source `next()` is in flight. */
  private reading = false;
  private result: IteratorResult<SseEvent | string> | undefined;
  private failure: { error: unknown } | undefined;
  private heartbeatDue = false;
  private timer: TimerHandle | undefined;
  /** Resolves the consumer's wait when something happens (event, error, heartbeat, end). */
  private wake: (() => void) | undefined;
  private preamble: string | undefined;

  constructor(
    private readonly req: Request,
    private readonly source: SseSource,
    private readonly lastEventId: string | undefined,
    private readonly heartbeatMs: number,
    private readonly wheel: TimerWheel | undefined,
    retry: number | undefined,
  ) {
    if (retry !== undefined) this.preamble = formatSseEvent({ retry });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<string> {
    return this;
  }

  async next(): Promise<IteratorResult<string>> {
    if (!this.started) this.start();
    for (;;) {
      if (this.finished) return DONE;
      if (this.preamble !== undefined) {
        const text = this.preamble;
        this.preamble = undefined;
        return this.emit(text);
      }
      if (this.failure !== undefined) {
        const { error } = this.failure;
        this.finish(false);
        throw error;
      }
      const result = this.result;
      if (result !== undefined) {
        this.result = undefined;
        if (result.done === true) {
          this.finish(false);
          return DONE;
        }
        let text: string;
        try {
          text = formatSseEvent(result.value);
        } catch (err) {
          this.finish(true);
          throw err;
        }
        return this.emit(text);
      }
      if (this.heartbeatDue) {
        this.heartbeatDue = false;
        return this.emit(HEARTBEAT);
      }
      if (!this.reading) {
        this.reading = true;
        this.iterator!.next().then(this.onResult, this.onError);
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** Stops the stream: the heartbeat and the source (its finally blocks run). */
  async return(): Promise<IteratorResult<string>> {
    this.finish(true);
    return DONE;
  }

  /** Called by the heartbeat timer. */
  heartbeat(): void {
    if (this.finished) return;
    this.heartbeatDue = true;
    this.notify();
  }

  private start(): void {
    this.started = true;
    const req = this.req;
    if (req.aborted) {
      this.finished = true;
      return;
    }
    const signal = req.signal;
    signal.addEventListener('abort', this.onAbort, { once: true });
    try {
      this.iterator = this.source(this.lastEventId, signal)[Symbol.asyncIterator]();
    } catch (error) {
      this.failure = { error };
      return;
    }
    this.armHeartbeat();
  }

  private emit(text: string): IteratorResult<string> {
    this.armHeartbeat();
    return { done: false, value: text };
  }

  private armHeartbeat(): void {
    if (this.heartbeatMs <= 0 || this.finished || this.wheel === undefined) return;
    if (this.timer === undefined) this.timer = this.wheel.schedule(this.heartbeatMs, onHeartbeatTimer, this);
    else this.wheel.reschedule(this.timer, this.heartbeatMs);
  }

  private notify(): void {
    const wake = this.wake;
    if (wake !== undefined) {
      this.wake = undefined;
      wake();
    }
  }

  private finish(stopSource: boolean): void {
    if (this.finished) return;
    this.finished = true;
    if (this.timer !== undefined) this.wheel!.cancel(this.timer);
    this.req.signal.removeEventListener('abort', this.onAbort);
    this.notify();
    if (stopSource && this.iterator?.return !== undefined) {
      // Queued behind a `next()` in flight, if any; its outcome no longer matters.
      this.iterator.return().then(undefined, ignore);
    }
  }

  private readonly onResult = (result: IteratorResult<SseEvent | string>): void => {
    this.reading = false;
    this.result = result;
    this.notify();
  };

  private readonly onError = (error: unknown): void => {
    this.reading = false;
    this.failure = { error };
    this.notify();
  };

  private readonly onAbort = (): void => {
    this.finish(true);
  };
}

function ignore(): void {}

/**
 * A Server-Sent Events response for `req`: status 200, `Content-Type: text/event-stream`,
 * `Cache-Control: no-cache`, body produced from `source` (see the file comment). Defaults:
 * `heartbeatMs` 15000, `timerWheel` `defaultTimerWheel()`, `retry` not sent.
 */
export function sse(req: Request, source: SseSource, options: SseOptions = {}): Response {
  const heartbeatMs = options.heartbeatMs ?? 15000;
  const wheel = heartbeatMs > 0 ? (options.timerWheel ?? defaultTimerWheel()) : undefined;
  const body = new SseEventStream(
    req,
    source,
    req.headers.get('last-event-id'),
    heartbeatMs,
    wheel,
    options.retry,
  );
  const res = new Response(body, {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  });
  if (options.headers !== undefined) {
    for (const [name, value] of new Headers(options.headers)) res.headers.set(name, value);
  }
  return res;
}
