/**
 * Reading and writing the TLS presentation language (RFC 8446 §3): big-endian integers and
 * vectors with 1-, 2- or 3-byte length prefixes. The reader checks every length against the
 * bytes that remain and against the vector's floor and ceiling, and throws decode_error.
 */
import { decodeError } from './tls13-error.js';

/** A cursor over one message body; each read checks the bytes that remain (RFC 8446 §3.4). */
export class Tls13Reader {
  private offset = 0;

  constructor(
    private readonly bytes: Buffer,
    /** What is being read, for error messages (`ClientHello`, `key_share`). */
    private readonly what: string,
  ) {}

  /** Bytes not yet read. */
  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(n: number, field: string): void {
    if (n > this.remaining) {
      throw decodeError(`${this.what}: ${field} needs ${n} bytes, ${this.remaining} remain (RFC 8446 §3)`);
    }
  }

  u8(field: string): number {
    this.need(1, field);
    return this.bytes[this.offset++]!;
  }

  u16(field: string): number {
    this.need(2, field);
    const v = this.bytes.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u24(field: string): number {
    this.need(3, field);
    const v = this.bytes.readUIntBE(this.offset, 3);
    this.offset += 3;
    return v;
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** `n` raw bytes (a zero-copy slice). */
  fixed(n: number, field: string): Buffer {
    this.need(n, field);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /**
   * A vector `opaque field<min..max>` with a `prefix`-byte length (RFC 8446 §3.4). Checks the
   * length against min, max and the bytes that remain.
   */
  vector(prefix: 1 | 2 | 3, min: number, max: number, field: string): Buffer {
    const length = prefix === 1 ? this.u8(field) : prefix === 2 ? this.u16(field) : this.u24(field);
    if (length < min || length > max) {
      throw decodeError(`${this.what}: ${field} length ${length} is outside ${min}..${max} (RFC 8446 §3.4)`);
    }
    return this.fixed(length, field);
  }

  /** Throws decode_error when bytes are left over after the last field. */
  end(): void {
    if (this.remaining !== 0) {
      throw decodeError(`${this.what}: ${this.remaining} trailing bytes after the last field (RFC 8446 §3)`);
    }
  }
}

/** Reads a vector of u16 values that fills `body` (cipher suites, groups, signature schemes). */
export function readU16List(body: Buffer, what: string): number[] {
  if (body.length % 2 !== 0) throw decodeError(`${what}: odd length ${body.length} for a list of uint16`);
  const out: number[] = [];
  for (let i = 0; i < body.length; i += 2) out.push(body.readUInt16BE(i));
  return out;
}

/** Builds a message from parts; `vector` wraps what its callback writes in a length prefix. */
export class Tls13Writer {
  private readonly parts: Buffer[] = [];
  private length = 0;

  private push(b: Buffer): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  u8(v: number): this {
    return this.push(Buffer.of(v & 0xff));
  }

  u16(v: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeUInt16BE(v);
    return this.push(b);
  }

  u24(v: number): this {
    const b = Buffer.allocUnsafe(3);
    b.writeUIntBE(v, 0, 3);
    return this.push(b);
  }

  u32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(v >>> 0);
    return this.push(b);
  }

  bytes(b: Uint8Array): this {
    return this.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  /** Writes `body` with a `prefix`-byte length; throws RangeError when it does not fit `max`. */
  vector(prefix: 1 | 2 | 3, body: Uint8Array, max = 2 ** (8 * prefix) - 1): this {
    if (body.length > max) throw new RangeError(`vector of ${body.length} bytes exceeds ${max}`);
    if (prefix === 1) this.u8(body.length);
    else if (prefix === 2) this.u16(body.length);
    else this.u24(body.length);
    return this.bytes(body);
  }

  /** Writes what `fill` writes into a nested writer, prefixed with its length. */
  nested(prefix: 1 | 2 | 3, fill: (w: Tls13Writer) => void): this {
    const inner = new Tls13Writer();
    fill(inner);
    return this.vector(prefix, inner.finish());
  }

  finish(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}
