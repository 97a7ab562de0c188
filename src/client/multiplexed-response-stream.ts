/**
 * The response side of one request stream on an HTTP/2 (RFC 9113 §8.1) or HTTP/3 (RFC 9114
 * §4.1) client connection, which both drivers handle the same way: the stream waits for the
 * response head (under the request's `headersTimeout`), then reads the body (under its
 * `bodyTimeout`, an idle timeout); the head's pseudo-header fields give `:status` and are kept out
 * of the response's fields, and a trailer section keeps only its regular fields (RFC 9110 §6.5).
 */
import type { TimerHandle, TimerWheel } from '../runtime/timer-wheel.js';
import { BodyTimeoutError, type ClientError, HeadersTimeoutError } from './client-errors.js';
import type { ClientRequest } from './client-request.js';

/** Where a request stream's response is: waiting for its head, or reading its body. */
export const ResponseStreamPhase = { Headers: 0, Body: 1 } as const;

/** What a stream's response timer needs: its handle, once scheduled. */
export interface ResponseStreamTimed {
  timer: TimerHandle | undefined;
}

/**
 * A response stream whose reader can fall behind: while `paused`, the bytes received are
 * `held` rather than credited to the peer (HTTP/2 WINDOW_UPDATE, QUIC MAX_STREAM_DATA), so a
 * slow reader slows the sender.
 */
export interface ResponseStreamFlow extends ResponseStreamTimed {
  phase: number;
  paused: boolean;
  held: number;
}

/**
 * Marks `entry`'s reader paused; false when it already was. The reader is slow, not the peer:
 * the body idle timeout waits while paused.
 */
export function pauseResponseStream(entry: ResponseStreamFlow): boolean {
  if (entry.paused) return false;
  entry.paused = true;
  if (entry.phase === ResponseStreamPhase.Body) entry.timer?.cancel();
  return true;
}

/** Marks `entry`'s reader going again; returns the bytes held while paused, now to credit. */
export function resumeResponseStream(entry: ResponseStreamFlow): number {
  entry.paused = false;
  const held = entry.held;
  entry.held = 0;
  return held;
}

/** The `:status` of a response field section; its regular fields are appended to `regular`. */
export function responseHeadFields(fields: string[], regular: string[]): number {
  let status = 0;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.charCodeAt(0) === 0x3a) {
      if (name === ':status') status = Number(fields[i + 1]);
    } else regular.push(name, fields[i + 1]!);
  }
  return status;
}

/** `[name0, value0, ...]` of a trailer section without its pseudo-header fields. */
export function responseTrailerFields(fields: string[]): string[] {
  const list: string[] = [];
  for (let i = 0; i < fields.length; i += 2)
    if (fields[i]!.charCodeAt(0) !== 0x3a) list.push(fields[i]!, fields[i + 1]!);
  return list;
}

/** (Re)arms `entry`'s timer for `ms` on `wheel`, calling `fired(entry)`; cancels it when `ms` is not positive. */
export function armResponseStreamTimer<T extends ResponseStreamTimed>(
  wheel: TimerWheel,
  entry: T,
  ms: number,
  fired: (entry: T) => void,
): void {
  if (!(ms > 0)) {
    entry.timer?.cancel();
    return;
  }
  if (entry.timer === undefined) entry.timer = wheel.schedule(ms, fired, entry);
  else wheel.reschedule(entry.timer, ms);
}

/** The error of a stream timer that fired in `phase` (a {@link ResponseStreamPhase}). */
export function responseStreamTimeoutError(
  origin: string,
  request: ClientRequest,
  phase: number,
): ClientError {
  return phase === ResponseStreamPhase.Headers
    ? new HeadersTimeoutError(origin, request.headersTimeout)
    : new BodyTimeoutError(origin, request.bodyTimeout);
}
