/**
 * Test helpers for the HTTP/2 core: a scripted peer that writes frames with our own
 * H2FrameWriter and HpackEncoder, a recorder of connection events, and a reader that parses
 * what the connection sends back into a frame list.
 */
import type { H2Connection, H2ConnectionHandler } from '../../src/h2/h2-connection.js';
import type { H2Error } from '../../src/h2/h2-error.js';
import { H2FrameParser, type H2FrameSink } from '../../src/h2/h2-frame-parser.js';
import { H2_CLIENT_PREFACE } from '../../src/h2/h2-frame-types.js';
import { H2FrameWriter } from '../../src/h2/h2-frame-writer.js';
import type { H2Stream } from '../../src/h2/h2-stream.js';
import { HpackEncoder } from '../../src/h2/hpack-encoder.js';

/** A frame as read back. */
export interface SeenFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Parses a byte stream (no preface) into frames. */
export class FrameLog implements H2FrameSink {
  readonly frames: SeenFrame[] = [];
  private readonly parser = new H2FrameParser(this, { expectPreface: false, maxFrameSize: 1 << 24 });

  onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    this.frames.push({ type, flags, streamId, payload: Buffer.from(payload) });
  }

  feed(chunks: Buffer[]): this {
    for (const c of chunks) this.parser.execute(c);
    return this;
  }

  ofType(type: number): SeenFrame[] {
    return this.frames.filter((f) => f.type === type);
  }
}

/** A scripted client: frames written with our writer and encoder. */
export class ScriptedPeer {
  readonly writer = new H2FrameWriter();
  readonly encoder = new HpackEncoder();

  preface(): this {
    this.writer.bytes(H2_CLIENT_PREFACE);
    this.writer.settings([]);
    return this;
  }

  request(streamId: number, path = '/', endStream = true, extra: string[] = [], method = 'GET'): this {
    const block = this.encoder.encode([
      ':method',
      method,
      ':scheme',
      'http',
      ':path',
      path,
      ':authority',
      'localhost',
      ...extra,
    ]);
    this.writer.headers(streamId, block, endStream, 16384);
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.writer.take());
  }
}

/** Records connection events. */
export class RecordingHandler implements H2ConnectionHandler {
  headers: { stream: H2Stream; fields: string[]; endStream: boolean; trailers: boolean }[] = [];
  data: { stream: H2Stream; data: Buffer; endStream: boolean }[] = [];
  closed: { id: number; code: number; byPeer: boolean }[] = [];
  writable: number[] = [];
  goaways: { last: number; code: number }[] = [];
  errors: H2Error[] = [];
  /** Answer each request at once with this status and body, when set. */
  autoRespond: { conn: H2Connection; body: Buffer } | undefined;

  onHeaders(stream: H2Stream, fields: string[], endStream: boolean, trailers: boolean): void {
    this.headers.push({ stream, fields, endStream, trailers });
    if (this.autoRespond !== undefined && !trailers) {
      const { conn, body } = this.autoRespond;
      conn.sendHeaders(stream, [':status', '200'], body.length === 0);
      if (body.length > 0) conn.sendData(stream, body, true);
    }
  }
  onData(stream: H2Stream, data: Buffer, endStream: boolean): void {
    this.data.push({ stream, data: Buffer.from(data), endStream });
  }
  onStreamClosed(stream: H2Stream, code: number, byPeer: boolean): void {
    this.closed.push({ id: stream.id, code, byPeer });
  }
  onStreamWritable(stream: H2Stream): void {
    this.writable.push(stream.id);
  }
  onGoaway(last: number, code: number): void {
    this.goaways.push({ last, code });
  }
  onConnectionError(error: H2Error): void {
    this.errors.push(error);
  }
}

/** The GOAWAY error code the connection sent last, or -1. */
export function goawayCode(log: FrameLog): number {
  const g = log.ofType(7);
  return g.length === 0 ? -1 : g[g.length - 1]!.payload.readUInt32BE(4);
}
