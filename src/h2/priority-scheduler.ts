/**
 * The order in which an `H2Connection` sends queued DATA when several streams have some: the
 * RFC 9218 extensible priorities (§4, §10). Lower urgency goes first, strictly: a stream of
 * urgency u sends only while no stream of a lower urgency can. Within one urgency,
 * non-incremental responses are served one by one in stream-id order (§4.2: "serving
 * non-incremental responses one by one, in the order in which those requests were generated,
 * is considered to be the best strategy"), then incremental ones share what is left round-robin,
 * one frame each per round. A stream blocked by its own flow-control window (RFC 9113 §6.9)
 * lets the next one go, so the scheduler never idles while anything can be sent.
 *
 * Streams without a `priority` signal have the defaults (u=3, non-incremental).
 */
import { type H2Stream, H2StreamState } from './h2-stream.js';
import { DEFAULT_PRIORITY } from './priority-field.js';

/** RFC 9218 §4.1: urgencies 0..7. */
const URGENCIES = 8;

/**
 * Sends one frame (DATA, or the trailers / empty END_STREAM that end the stream) of `stream`;
 * returns false when flow control blocks it.
 */
export type H2FrameSender = (stream: H2Stream) => boolean;

/** The send queue of one connection, ordered by RFC 9218 priority. */
export class H2PriorityScheduler {
  /** One queue per class `urgency * 2 + incremental`; non-incremental queues are kept in id order. */
  private readonly classes: H2Stream[][] = [];
  private readonly send: H2FrameSender;
  private queued = 0;
  private running = false;
  /** Streams added while `run` was going, placed at the start of its next pass. */
  private readonly incoming: H2Stream[] = [];

  constructor(send: H2FrameSender) {
    this.send = send;
    for (let i = 0; i < URGENCIES * 2; i++) this.classes.push([]);
  }

  /** Streams queued. */
  get size(): number {
    return this.queued;
  }

  /** Queues `stream` (once) in the class of its current priority. */
  add(stream: H2Stream): void {
    if (stream.queued) return;
    stream.queued = true;
    this.queued++;
    // While `run` walks the queues they must not shift under it: later arrivals wait here.
    if (this.running) this.incoming.push(stream);
    else this.place(stream);
  }

  /** The priority of `stream` changed (RFC 9218 §7): a queued stream moves to its new class. */
  reprioritize(stream: H2Stream): void {
    if (!stream.queued || stream.queuedClass < 0 || this.running) return;
    const queue = this.classes[stream.queuedClass]!;
    const at = queue.indexOf(stream);
    if (at >= 0) queue.splice(at, 1);
    this.place(stream);
  }

  /** Sends as much as flow control allows, most urgent first. */
  run(): void {
    if (this.running) return;
    this.running = true;
    try {
      do {
        const incoming = this.incoming;
        for (let i = 0; i < incoming.length; i++) this.place(incoming[i]!);
        incoming.length = 0;
        for (let cls = 0; cls < this.classes.length; cls++) {
          const queue = this.classes[cls]!;
          if (queue.length === 0) continue;
          if ((cls & 1) === 0) this.runSequential(queue);
          else this.runRoundRobin(queue);
          // A callback queued more meanwhile, maybe more urgent: start over.
          if (this.incoming.length > 0) break;
        }
      } while (this.incoming.length > 0);
    } finally {
      this.running = false;
    }
  }

  /** Puts a queued stream in the queue of its class. */
  private place(stream: H2Stream): void {
    const p = stream.priority ?? DEFAULT_PRIORITY;
    const cls = p.urgency * 2 + (p.incremental ? 1 : 0);
    stream.queuedClass = cls;
    const queue = this.classes[cls]!;
    if (p.incremental || queue.length === 0 || queue[queue.length - 1]!.id < stream.id) {
      queue.push(stream);
      return;
    }
    // Keep stream-id order (a PRIORITY_UPDATE can move an older stream here).
    let i = queue.length;
    while (i > 0 && queue[i - 1]!.id > stream.id) i--;
    queue.splice(i, 0, stream);
  }

  /** Non-incremental: each stream in id order sends all it can before the next one. */
  private runSequential(queue: H2Stream[]): void {
    let keep = 0;
    for (let i = 0; i < queue.length; i++) {
      const stream = queue[i]!;
      if (this.dropped(stream)) continue;
      let more = true;
      while (more && (stream.pendingBytes > 0 || stream.pendingEnd)) more = this.send(stream);
      if (this.waiting(stream)) queue[keep++] = stream;
    }
    queue.length = keep;
  }

  /** Incremental: one frame per stream per round, until no stream can send. */
  private runRoundRobin(queue: H2Stream[]): void {
    let progress = true;
    while (progress && queue.length > 0) {
      progress = false;
      let keep = 0;
      for (let i = 0; i < queue.length; i++) {
        const stream = queue[i]!;
        if (this.dropped(stream)) continue;
        if (this.send(stream)) progress = true;
        if (this.waiting(stream)) queue[keep++] = stream;
      }
      queue.length = keep;
    }
  }

  /** Leaves the queue (closed, or no longer sending); true when it did. */
  private dropped(stream: H2Stream): boolean {
    if (stream.state !== H2StreamState.Closed && stream.canSend && stream.queuedClass >= 0) return false;
    this.unqueue(stream);
    return true;
  }

  /** True while the stream has something left to send; otherwise it leaves the queue. */
  private waiting(stream: H2Stream): boolean {
    if ((stream.pendingBytes > 0 || stream.pendingEnd) && stream.state !== H2StreamState.Closed) return true;
    this.unqueue(stream);
    return false;
  }

  private unqueue(stream: H2Stream): void {
    if (!stream.queued) return;
    stream.queued = false;
    stream.queuedClass = -1;
    this.queued--;
  }
}
