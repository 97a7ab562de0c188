/**
 * One HTTP/2 stream as the connection core tracks it: its state in the RFC 9113 §5.1 state
 * machine, its two flow-control windows (§5.2, §6.9), the data waiting for send window, and a
 * slot for the driver's own object. Streams are created and changed only by `H2Connection`.
 */
import type { PriorityParams } from './priority-field.js';

/** RFC 9113 §5.1 stream states. */
export const enum H2StreamState {
  Idle = 0,
  Open = 1,
  /** We sent END_STREAM. */
  HalfClosedLocal = 2,
  /** The peer sent END_STREAM. */
  HalfClosedRemote = 3,
  Closed = 4,
  /** We promised this stream with PUSH_PROMISE (RFC 9113 §8.4); our HEADERS make it half-closed (remote). */
  ReservedLocal = 5,
  /** The peer promised this stream; its HEADERS make it half-closed (local). */
  ReservedRemote = 6,
}

/** A stream of an `H2Connection`. */
export class H2Stream {
  readonly id: number;
  state: H2StreamState = H2StreamState.Idle;
  /** Octets we may still send (RFC 9113 §6.9); may go negative after a SETTINGS change (§6.9.2). */
  sendWindow: number;
  /** Octets the peer may still send us. */
  recvWindow: number;
  /** Octets delivered to the driver and consumed but not yet credited back by WINDOW_UPDATE. */
  recvUnacked = 0;
  /** Data waiting for send window, in order. */
  pending: Buffer[] = [];
  pendingBytes = 0;
  /** Send END_STREAM once `pending` is flushed. */
  pendingEnd = false;
  /** Trailers to send once `pending` is flushed. */
  pendingTrailers: string[] | undefined;
  /** The driver wants `onStreamWritable` when `pending` drains. */
  needsDrain = false;
  /** The stream is in the connection's send scheduler. */
  queued = false;
  /** The scheduler class the stream is queued in (urgency * 2 + incremental), or -1. */
  queuedClass = -1;
  /** Since when (ms) the stream has data but no window, or -1. */
  stalledSince = -1;
  /** The peer's declared content-length, or -1 (RFC 9113 §8.1.1). */
  expectedLength = -1;
  /** DATA octets received (without padding). */
  receivedLength = 0;
  /** The initial header section arrived (further HEADERS are trailers, or 1xx for clients). */
  headersReceived = false;
  /** The driver was told about this stream (it gets `onStreamClosed`). */
  announced = false;
  /** RFC 9218 priority (from the `priority` field or PRIORITY_UPDATE); undefined means the defaults. */
  priority: PriorityParams | undefined;
  /**
   * RFC 9218 §8: the `priority` field value of our own response (server side), which wins over
   * the client's signal member by member, now and after any later PRIORITY_UPDATE.
   */
  localPriority: string | undefined;
  /** The stream a PUSH_PROMISE promised this one on (RFC 9113 §6.6), or 0. */
  associatedId = 0;
  /** The driver's object for this stream. */
  data: unknown;

  constructor(id: number, sendWindow: number, recvWindow: number) {
    this.id = id;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** We may still send on this stream. */
  get canSend(): boolean {
    return this.state === H2StreamState.Open || this.state === H2StreamState.HalfClosedRemote;
  }

  /** The peer may still send on this stream. */
  get canReceive(): boolean {
    return this.state === H2StreamState.Open || this.state === H2StreamState.HalfClosedLocal;
  }
}
