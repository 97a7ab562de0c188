/**
 * Helpers for WebSocket tests: a frame builder that can also build frames RFC 6455 forbids
 * (reserved bits, reserved opcodes, oversized control frames, non-minimal lengths), a recorder
 * for the sans-I/O core, a reader of the frames a core sent, and a seeded random split.
 */
import {
  WsConnection,
  type WsConnectionHandler,
  type WsConnectionOptions,
} from '../../src/ws/ws-connection.js';
import type { WsProtocolError } from '../../src/ws/ws-errors.js';
import { WsFrameParser } from '../../src/ws/ws-frame-parser.js';

/** How to build one frame. */
export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  /** Default true. */
  fin?: boolean;
  /** RSV bits as a 3-bit number (RSV1 = 4, RSV2 = 2, RSV3 = 1). Default 0. */
  rsv?: number;
  /** Mask with this key, or `true` for a fixed key, `false` for none. Default true (client frames). */
  mask?: boolean | Buffer;
  /** Force a length encoding: 7, 16 or 64 bits. Default: minimal. */
  lengthBits?: 7 | 16 | 64;
  /** Override the 64-bit length's high word (to set its most significant bit). */
  lengthHigh?: number;
}

const DEFAULT_KEY = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** Builds a frame byte by byte, without any of the checks the real writer makes. */
export function frame(spec: FrameSpec): Buffer {
  const payload =
    typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const fin = spec.fin ?? true;
  const mask = spec.mask ?? true;
  const key = mask === false ? undefined : mask === true ? DEFAULT_KEY : mask;
  const n = payload.length;
  const bits = spec.lengthBits ?? (n < 126 ? 7 : n < 65536 ? 16 : 64);
  const head: number[] = [(fin ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
  const maskBit = key === undefined ? 0 : 0x80;
  if (bits === 7) head.push(maskBit | n);
  else if (bits === 16) head.push(maskBit | 126, n >> 8, n & 0xff);
  else {
    const high = spec.lengthHigh ?? Math.floor(n / 2 ** 32);
    const low = n >>> 0;
    head.push(maskBit | 127, high >>> 24, (high >>> 16) & 0xff, (high >>> 8) & 0xff, high & 0xff);
    head.push(low >>> 24, (low >>> 16) & 0xff, (low >>> 8) & 0xff, low & 0xff);
  }
  const out = Buffer.alloc(head.length + (key ? 4 : 0) + n);
  Buffer.from(head).copy(out, 0);
  let at = head.length;
  if (key) {
    key.copy(out, at);
    at += 4;
  }
  for (let i = 0; i < n; i++) out[at + i] = key ? payload[i] ^ key[i & 3] : payload[i];
  return out;
}

/** A Close frame payload: code then reason. */
export function closePayload(code: number, reason: string | Buffer = ''): Buffer {
  const r = typeof reason === 'string' ? Buffer.from(reason) : reason;
  const out = Buffer.alloc(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

/** A frame as the receiving test sees it. */
export interface SeenFrame {
  opcode: number;
  payload: Buffer;
  rsv1: boolean;
  fin: boolean;
}

/** Parses frames written by an endpoint (`from`: the writer's role). */
export function readFrames(bytes: Buffer, from: 'server' | 'client'): SeenFrame[] {
  const frames: SeenFrame[] = [];
  let current: SeenFrame | undefined;
  let parts: Buffer[] = [];
  const parser = new WsFrameParser(
    {
      onDataFrame(opcode, fin, rsv1) {
        current = { opcode, payload: Buffer.alloc(0), rsv1, fin };
        parts = [];
      },
      onDataPayload(data) {
        parts.push(Buffer.from(data));
      },
      onDataFrameEnd() {
        current!.payload = Buffer.concat(parts);
        frames.push(current!);
      },
      onControlFrame(opcode, payload) {
        frames.push({ opcode, payload: Buffer.from(payload), rsv1: false, fin: true });
      },
    },
    { role: from === 'server' ? 'client' : 'server', allowRsv1: true, maxFramePayload: 2 ** 40 },
  );
  parser.receive(Buffer.from(bytes));
  return frames;
}

/** Everything a core reported, in order. */
export class CoreRecorder implements WsConnectionHandler {
  readonly written: Buffer[] = [];
  readonly events: string[] = [];
  readonly messages: { data: Buffer; isBinary: boolean }[] = [];
  readonly errors: WsProtocolError[] = [];
  closeFrame: { code: number; reason: string } | undefined;
  resumed = 0;

  write(header: Buffer, payload: Buffer | null, callback?: (e?: Error | null) => void): void {
    this.written.push(Buffer.from(header));
    if (payload !== null) this.written.push(Buffer.from(payload));
    callback?.();
  }
  onMessage(data: Buffer, isBinary: boolean): void {
    this.messages.push({ data: Buffer.from(data), isBinary });
    this.events.push(`message ${isBinary ? 'binary' : 'text'} ${data.length}`);
  }
  onPing(data: Buffer): void {
    this.events.push(`ping ${data.length}`);
  }
  onPong(data: Buffer): void {
    this.events.push(`pong ${data.length}`);
  }
  onCloseFrame(code: number, reason: string): void {
    this.closeFrame = { code, reason };
    this.events.push(`close ${code}`);
  }
  onProtocolError(error: WsProtocolError): void {
    this.errors.push(error);
    this.events.push(`error ${error.closeCode}`);
  }
  onReadResume(): void {
    this.resumed++;
  }

  /** The frames the core wrote (it is `role`). */
  sent(role: 'server' | 'client' = 'server'): SeenFrame[] {
    return readFrames(Buffer.concat(this.written), role);
  }

  /** The code of the Close the core sent, 1005 for an empty one, undefined when none. */
  sentCloseCode(role: 'server' | 'client' = 'server'): number | undefined {
    const close = this.sent(role).find((f) => f.opcode === 0x8);
    if (close === undefined) return undefined;
    return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
  }
}

/** A core and its recorder. */
export function makeCore(options: Partial<WsConnectionOptions> = {}): {
  core: WsConnection;
  rec: CoreRecorder;
} {
  const rec = new CoreRecorder();
  const core = new WsConnection(rec, { role: 'server', ...options });
  return { core, rec };
}

export { seededRandom } from '../seeded-random.js';

/** Splits `bytes` into random pieces (each a fresh copy) of 1..maxPiece bytes. */
export function randomSplit(bytes: Buffer, random: () => number, maxPiece = 7): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < bytes.length) {
    const n = 1 + Math.floor(random() * maxPiece);
    out.push(Buffer.from(bytes.subarray(i, i + n)));
    i += n;
  }
  return out;
}
