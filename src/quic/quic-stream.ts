/**
 * One QUIC stream as the connection keeps it (RFC 9000 §2-§4): the sending part (§3.1) with its
 * queue, retransmissions and RESET_STREAM, the receiving part (§3.2) with reassembly and final
 * size (§4.5), and the stream-level flow control of both directions (§4.1, §4.2): the peer's
 * MAX_STREAM_DATA limit on what we send, and the limit we advertise, raised as the user consumes
 * data (on delivery, or when the user says so with manual credit). Connection-level flow control, stream limits (§4.6) and stream ids (§2.1) are the
 * connection's.
 */
import { QuicTransportErrorCode as E, QuicError } from './quic-error.js';
import type { QuicStreamFrame } from './quic-frame-types.js';
import { QuicReassembly } from './quic-reassembly.js';

/** Per-stream state of both directions (RFC 9000 §3). */
export class QuicStream {
  // Sending part (§3.1).
  sendQueue: Uint8Array[] = [];
  sendQueued = 0;
  sendOffset = 0;
  finQueued = false;
  finSent = false;
  sendMax: number;
  retransmit: QuicStreamFrame[] = [];
  resetSent = false;
  // Receiving part (§3.2).
  readonly received = new QuicReassembly();
  receivedHighest = 0;
  finalSize: number | undefined;
  /** The limit we want to give; `receiveAdvertised` is the one the peer was told (§4.1). */
  receiveMax: number;
  receiveAdvertised: number;
  receiveDone = false;
  /** Bytes the user has consumed (§4.2); credit is returned only for these. */
  consumed = 0;
  maxStreamDataDirty = false;
  /** Whether this peer stream was counted as closed towards MAX_STREAMS (§4.6). */
  counted = false;

  constructor(
    readonly id: number,
    readonly canSend: boolean,
    readonly canReceive: boolean,
    sendMax: number,
    readonly receiveWindow: number,
  ) {
    this.sendMax = sendMax;
    this.receiveMax = receiveWindow;
    this.receiveAdvertised = receiveWindow;
    if (!canSend) this.finSent = true;
    if (!canReceive) this.receiveDone = true;
  }

  get sendDone(): boolean {
    return this.resetSent || (this.finSent && this.sendQueued === 0 && this.retransmit.length === 0);
  }

  /** Queues `data`, and the end of the stream when `fin` (§2.2). */
  queue(data: Uint8Array, fin: boolean): void {
    if (data.length > 0) {
      this.sendQueue.push(data);
      this.sendQueued += data.length;
    }
    if (fin) this.finQueued = true;
  }

  /** Abandons sending (§3.1 "Reset Sent"): queued and lost data will not be sent. */
  abandonSending(): void {
    this.resetSent = true;
    this.sendQueue = [];
    this.sendQueued = 0;
    this.retransmit = [];
  }

  /** Takes the next `n` queued bytes (at most {@link sendQueued}) to send. */
  takeSendBytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const head = this.sendQueue[0]!;
      const k = Math.min(head.length, n - o);
      out.set(head.subarray(0, k), o);
      o += k;
      if (k === head.length) this.sendQueue.shift();
      else this.sendQueue[0] = head.subarray(k);
    }
    this.sendQueued -= n;
    return out;
  }

  /**
   * Data up to offset `end` was received: checks it against the limit we advertised (§4.1) and
   * returns how many bytes it adds beyond the highest offset received so far, for the
   * connection-level limit.
   */
  accountReceived(end: number): number {
    if (end > this.receiveAdvertised) {
      throw new QuicError(
        'AVX_QUIC_FLOW_CONTROL',
        E.FLOW_CONTROL_ERROR,
        `stream ${this.id} beyond MAX_STREAM_DATA (RFC 9000 §4.1)`,
      );
    }
    if (end <= this.receivedHighest) return 0;
    const added = end - this.receivedHighest;
    this.receivedHighest = end;
    return added;
  }

  /**
   * The user consumed up to `n` more delivered bytes: returns how many were newly consumed (at
   * most what was delivered and not yet consumed) and raises the limit once the consumed data
   * passes half the window (§4.2).
   */
  consume(n: number): number {
    const k = Math.max(0, Math.min(n, this.received.delivered - this.consumed));
    this.consumed += k;
    if (this.finalSize === undefined && this.consumed + this.receiveWindow / 2 >= this.receiveMax) {
      this.receiveMax = this.consumed + this.receiveWindow;
      this.maxStreamDataDirty = true;
    }
    return k;
  }

  /** A MAX_STREAM_DATA with {@link receiveMax} was put in a packet. */
  onMaxStreamDataSent(): void {
    this.maxStreamDataDirty = false;
    this.receiveAdvertised = Math.max(this.receiveAdvertised, this.receiveMax);
  }
}
