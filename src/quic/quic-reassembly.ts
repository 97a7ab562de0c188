/**
 * In-order reassembly of a QUIC byte stream from frames at arbitrary offsets, overlaps and
 * retransmissions allowed: the receive buffer of CRYPTO data (RFC 9000 §7.5, §19.6) and of
 * STREAM data (RFC 9000 §2.2, §19.8), which both deliver bytes in order whatever order the
 * frames arrive in.
 */

/** In-order reassembly of a byte stream from frames at arbitrary offsets, overlaps allowed. */
export class QuicReassembly {
  /** Bytes delivered in order so far. */
  delivered = 0;
  private chunks: { offset: number; data: Uint8Array }[] = [];

  /** Adds the bytes at `offset`; bytes already delivered are ignored. */
  insert(offset: number, data: Uint8Array): void {
    const end = offset + data.length;
    if (end <= this.delivered || data.length === 0) return;
    if (offset < this.delivered) {
      data = data.subarray(this.delivered - offset);
      offset = this.delivered;
    }
    // A retransmission of bytes already buffered at the same offset adds nothing.
    if (this.chunks.some((c) => c.offset === offset && c.data.length >= data.length)) return;
    this.chunks.push({ offset, data });
  }

  /** The bytes that are now contiguous with what was delivered, in order. */
  take(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (;;) {
      const i = this.chunks.findIndex(
        (c) => c.offset <= this.delivered && c.offset + c.data.length > this.delivered,
      );
      if (i < 0) break;
      const c = this.chunks[i]!;
      const piece = c.data.subarray(this.delivered - c.offset);
      out.push(piece);
      this.delivered += piece.length;
      this.chunks.splice(i, 1);
    }
    this.chunks = this.chunks.filter((c) => c.offset + c.data.length > this.delivered);
    return out;
  }
}
