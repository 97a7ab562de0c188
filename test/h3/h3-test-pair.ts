/**
 * Test helpers for the HTTP/3 core: a client and a server `H3Connection` wired back to back
 * through an in-memory QUIC stream transport. Each stream delivers its bytes in order, in
 * chunks of random size, and the streams are served in random order (so QPACK sections may
 * arrive before the encoder-stream instructions they need). Also a hand-driven peer for
 * byte-level tests, and event normalisation for comparisons.
 */
import { Buffer } from 'node:buffer';
import {
  type H3Command,
  H3Connection,
  type H3ConnectionOptions,
  type H3Event,
} from '../../src/h3/h3-connection.js';
import { encodeFrame } from '../../src/h3/h3-frame-writer.js';
import { encodeSettingsFrame } from '../../src/h3/h3-settings.js';
import { QpackEncoder } from '../../src/h3/qpack-encoder.js';
import { seededRandom } from '../seeded-random.js';

type Side = 'client' | 'server';

interface StreamQueue {
  bytes: Buffer;
  fin: boolean;
}

/** How the pair delivers stream data. */
export interface PairDelivery {
  /** Seed of the random chunking and stream order; undefined delivers whole, in order. */
  seed?: number;
  /** Largest chunk delivered at once. Default 7. */
  maxChunk?: number;
}

/** A client and a server core connected by an in-memory transport. */
export class H3Pair {
  readonly client: H3Connection;
  readonly server: H3Connection;
  readonly events: Record<Side, H3Event[]> = { client: [], server: [] };
  readonly closes: Record<Side, { code: number; reason: string }[]> = { client: [], server: [] };
  /** Called for every event a side produces (after it is recorded), e.g. to answer requests. */
  onEvent: (side: Side, event: H3Event) => void = () => {};
  /** Most streams ever blocked at either side's QPACK decoder after a delivery. */
  maxBlocked = 0;
  private readonly queues: Record<Side, Map<number, StreamQueue>> = { client: new Map(), server: new Map() };
  private readonly random: (() => number) | undefined;
  private readonly maxChunk: number;

  constructor(
    delivery: PairDelivery = {},
    clientOptions: Partial<H3ConnectionOptions> = {},
    serverOptions: Partial<H3ConnectionOptions> = {},
  ) {
    this.client = new H3Connection({ ...clientOptions, role: 'client' });
    this.server = new H3Connection({ ...serverOptions, role: 'server' });
    this.random = delivery.seed === undefined ? undefined : seededRandom(delivery.seed);
    this.maxChunk = delivery.maxChunk ?? 7;
  }

  private peerOf(side: Side): Side {
    return side === 'client' ? 'server' : 'client';
  }

  private conn(side: Side): H3Connection {
    return side === 'client' ? this.client : this.server;
  }

  private record(side: Side, events: H3Event[]): void {
    for (const e of events) {
      this.events[side].push(e);
      this.onEvent(side, e);
    }
  }

  /** Moves the commands of `from` into the transport (toward its peer). */
  private collect(from: Side): boolean {
    const commands: H3Command[] = this.conn(from).takeCommands();
    const to = this.peerOf(from);
    const queue = this.queues[to];
    for (const c of commands) {
      switch (c.kind) {
        case 'write': {
          const q = queue.get(c.streamId) ?? { bytes: Buffer.alloc(0), fin: false };
          q.bytes = Buffer.concat([q.bytes, c.bytes]);
          q.fin ||= c.fin;
          queue.set(c.streamId, q);
          break;
        }
        case 'reset':
          queue.delete(c.streamId);
          this.record(to, this.conn(to).streamReset(c.streamId, c.code));
          break;
        case 'stopSending':
          this.record(to, this.conn(to).stopSending(c.streamId, c.code));
          break;
        case 'close':
          this.closes[from].push({ code: c.code, reason: c.reason });
          break;
        case 'openUni':
          break;
      }
    }
    return commands.length > 0;
  }

  /** Runs the transport until both sides are quiet. */
  pump(): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const moved = this.collect('client') || this.collect('server');
      if (moved) continue;
      const pending: [Side, number][] = [];
      for (const side of ['client', 'server'] as const) {
        for (const id of this.queues[side].keys()) pending.push([side, id]);
      }
      if (pending.length === 0) return;
      const random = this.random;
      const [side, id] = random === undefined ? pending[0]! : pending[Math.floor(random() * pending.length)]!;
      const q = this.queues[side].get(id)!;
      const size =
        random === undefined
          ? q.bytes.length
          : Math.min(q.bytes.length, 1 + Math.floor(random() * this.maxChunk));
      const chunk = Buffer.from(q.bytes.subarray(0, size));
      q.bytes = q.bytes.subarray(size);
      const fin = q.bytes.length === 0 && q.fin;
      if (q.bytes.length === 0) this.queues[side].delete(id);
      if (chunk.length > 0 || fin) this.record(side, this.conn(side).streamData(id, chunk, fin));
      this.maxBlocked = Math.max(this.maxBlocked, this.conn(side).qpackDecoder.blockedStreamCount);
    }
    throw new Error('transport did not settle');
  }

  /** Delivers only the queued bytes of one stream toward `side` (for ordering tests). */
  deliver(side: Side, streamId: number): void {
    this.collect('client');
    this.collect('server');
    const q = this.queues[side].get(streamId);
    if (q === undefined) return;
    this.queues[side].delete(streamId);
    this.record(side, this.conn(side).streamData(streamId, q.bytes, q.fin));
  }
}

/** Events of one side grouped by stream, consecutive data merged, as plain comparable values. */
export function normalize(events: readonly H3Event[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const e of events) {
    const key = 'streamId' in e ? `stream ${e.streamId}` : 'connection';
    let list = out[key];
    if (list === undefined) {
      list = [];
      out[key] = list;
    }
    if (e.type === 'data') {
      const last = list[list.length - 1] as { type: string; data: string } | undefined;
      if (last?.type === 'data') last.data += e.data.toString('latin1');
      else list.push({ type: 'data', data: e.data.toString('latin1') });
    } else if (e.type === 'settings') {
      list.push({ type: 'settings', ...e.settings });
    } else if (e.type === 'streamError' || e.type === 'connectionError') {
      list.push({ type: e.type, code: e.error.errorCode });
    } else {
      list.push({ ...e });
    }
  }
  return out;
}

/** Bytes of a unidirectional stream: its type then the given pieces. */
export function uniStream(type: number, ...pieces: Uint8Array[]): Buffer {
  return Buffer.concat([Buffer.from([type]), ...pieces]);
}

/** A control stream opening with an empty SETTINGS frame, then `frames`. */
export function controlStream(...frames: Uint8Array[]): Buffer {
  return uniStream(0x00, encodeSettingsFrame({}), ...frames);
}

/** A HEADERS frame of `fields` encoded with the static table only. */
export function headersFrame(fields: string[], streamId = 0): Buffer {
  return encodeFrame(0x01, new QpackEncoder().encodeFieldSection(streamId, fields));
}

/** Last `close` command of a core, or undefined. */
export function closeCode(conn: H3Connection): number | undefined {
  return conn.error?.errorCode;
}

/** A GET request's fields. */
export const GET = [':method', 'GET', ':scheme', 'https', ':authority', 'example.com', ':path', '/'];
