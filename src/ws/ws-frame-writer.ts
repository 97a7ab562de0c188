/**
 * WsFrameWriter: the sending half of WebSocket base framing (RFC 6455 §5.2). Builds frame
 * headers with the shortest length encoding (7, 16 or 64 bits, §5.2 "minimal number of
 * bytes"), and masks client frames with a fresh key each (§5.3, §10.3).
 *
 * Small payloads are copied behind their header into one buffer (one socket write, and for
 * strings no intermediate buffer: the text is encoded straight into the frame). Large
 * unmasked payloads stay where they are and go out as a separate buffer after the header.
 * A client must copy to mask, so a masked frame is always one buffer.
 */
import { Buffer } from 'node:buffer';
import { applyWsMask, WsMaskKeySource } from './ws-mask.js';

/** Payloads up to this size are copied next to their header. */
const COPY_MAX = 16384;

/** A frame ready for the transport: `header` then, when not null, `payload`. */
export interface WsEncodedFrame {
  header: Buffer;
  payload: Buffer | null;
}

/** Encodes frames for one endpoint. */
export class WsFrameWriter {
  private readonly masking: boolean;
  private readonly keys: WsMaskKeySource | undefined;

  /** `mask`: true for a client (RFC 6455 §5.1: clients mask every frame, servers never do). */
  constructor(mask: boolean) {
    this.masking = mask;
    this.keys = mask ? new WsMaskKeySource() : undefined;
  }

  /**
   * Encodes one frame. `opcode` 0x0-0xA, `fin` false for all but a message's last frame, `rsv1`
   * for a compressed message's first frame (RFC 7692 §6). A string payload is encoded as UTF-8.
   * The result's buffers are new, except `payload`, which may be `data` itself (never modified).
   */
  encode(opcode: number, fin: boolean, rsv1: boolean, data: Buffer | string): WsEncodedFrame {
    const length = typeof data === 'string' ? byteLengthOf(data) : data.length;
    const headerLength = (length < 126 ? 2 : length < 65536 ? 4 : 10) + (this.masking ? 4 : 0);
    const together = this.masking || length <= COPY_MAX || typeof data === 'string';
    const out = Buffer.allocUnsafe(together ? headerLength + length : headerLength);
    out[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
    const maskBit = this.masking ? 0x80 : 0;
    let at: number;
    if (length < 126) {
      out[1] = maskBit | length;
      at = 2;
    } else if (length < 65536) {
      out[1] = maskBit | 126;
      out[2] = length >>> 8;
      out[3] = length & 0xff;
      at = 4;
    } else {
      out[1] = maskBit | 127;
      out.writeUInt32BE(Math.floor(length / 4294967296), 2);
      out.writeUInt32BE(length >>> 0, 6);
      at = 10;
    }
    if (!together) return { header: out, payload: data as Buffer };
    if (typeof data === 'string') {
      if (length > 0) out.write(data, at + (this.masking ? 4 : 0), length, 'utf8');
    } else {
      data.copy(out, at + (this.masking ? 4 : 0));
    }
    if (this.masking) {
      this.keys!.writeKey(out, at);
      applyWsMask(out, at + 4, at + 4 + length, out, at, 0);
    }
    return { header: out, payload: null };
  }
}

/** UTF-8 length of `text`, with a fast path for short ASCII. */
function byteLengthOf(text: string): number {
  const n = text.length;
  if (n > 64) return Buffer.byteLength(text, 'utf8');
  for (let i = 0; i < n; i++) {
    if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8');
  }
  return n;
}
