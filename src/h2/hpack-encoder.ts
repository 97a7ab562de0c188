/**
 * The HPACK encoder (RFC 7541 §6): turns a field list into a header block. Each field is sent
 * as an index when the static or dynamic table holds it, else as a literal whose name is
 * indexed when possible; strings are Huffman-coded when that is shorter (§5.2).
 *
 * Indexing policy (§7.1): sensitive fields are never indexed and marked never-indexed
 * (§6.2.3) so that intermediaries keep them out of their tables too: `authorization`,
 * `proxy-authorization`, and `cookie` / `set-cookie` values shorter than 20 octets (§7.1.3:
 * short values are cheap to guess). Fields that change on every message (`:path`,
 * `content-length`, `date`, `etag`, ...) are sent without indexing so they do not evict
 * reusable entries. Table size changes from the peer's SETTINGS are signalled at the start of
 * the next block (§4.2, §6.3).
 */
import { Buffer } from 'node:buffer';
import { isNeverIndexed, NOT_INDEXED_FIELDS } from './field-indexing-policy.js';
import { HpackDynamicTable, hpackEntrySize } from './hpack-dynamic-table.js';
import { encodeHpackInteger } from './hpack-integer.js';
import {
  HPACK_STATIC_COUNT,
  HPACK_STATIC_FIELD_INDEX,
  HPACK_STATIC_NAME_INDEX,
} from './hpack-static-table.js';
import { HuffmanCodec } from './huffman-codec.js';

/** Options of {@link HpackEncoder}. */
export interface HpackEncoderOptions {
  /** Dynamic table size to use, in octets (at most the peer's SETTINGS_HEADER_TABLE_SIZE). Default 4096. */
  maxTableSize?: number;
  /** Huffman-code strings when shorter. Default true. */
  huffman?: boolean;
}

/** Names whose values are not worth indexing (they change per message). */
/** Most remembered literal encodings per encoder (see `literals`); the map is cleared when full. */
const MAX_LITERALS = 16;

/** The buffer header blocks are encoded into (see {@link HpackEncoder.encode}); grows as needed. */
let blockOut: Buffer = Buffer.allocUnsafe(1024);

/** An HPACK encoding context (one per connection and direction). */
export class HpackEncoder {
  /** The dynamic table (exposed for tests and diagnostics). */
  readonly table: HpackDynamicTable;
  private readonly huffman: boolean;
  /** Our preferred table size (may be lowered by the peer's setting). */
  private readonly preferredSize: number;
  /** `name\0value` -> insertion number of its newest copy in the table. */
  private readonly fieldIndex = new Map<string, number>();
  /** `name` -> insertion number of its newest entry. */
  private readonly nameIndex = new Map<string, number>();
  /** Smallest size set since the last block, and the final one (§4.2), or -1. */
  private minPendingSize = -1;
  private pendingSize = -1;
  /**
   * Encoded octets of recent not-indexed literals under static names, by `name\0value`, as
   * latin1 strings: as Buffers they were slices of Node's allocation pool, and the few an idle
   * HTTP/2 connection kept held whole 8 KiB pool slabs (about 1 KiB per connection).
   */
  private readonly literals = new Map<string, string>();
  private pos = 0;

  constructor(options: HpackEncoderOptions = {}) {
    this.preferredSize = options.maxTableSize ?? 4096;
    this.huffman = options.huffman ?? true;
    this.table = new HpackDynamicTable(this.preferredSize);
  }

  /**
   * The peer's SETTINGS_HEADER_TABLE_SIZE changed: use min(it, our preference) from the next
   * block on, announcing the change there (RFC 7541 §4.2).
   */
  setPeerMaxTableSize(size: number): void {
    const next = Math.min(size, this.preferredSize);
    if (next === this.table.maxSize && this.pendingSize === -1) return;
    this.minPendingSize = this.minPendingSize === -1 ? next : Math.min(this.minPendingSize, next);
    this.pendingSize = next;
  }

  /**
   * Encodes the fields `[name0, value0, ...]` (names lowercase, as HTTP/2 requires) and
   * returns the block. The returned Buffer is a view of a buffer every encoder of the thread
   * writes its blocks into, valid until the next call of any of them: the caller copies it into
   * frames at once. (One buffer per encoder was a kilobyte of every idle HTTP/2 connection.)
   */
  encode(fields: readonly string[]): Buffer {
    this.pos = 0;
    if (this.pendingSize !== -1) {
      if (this.minPendingSize < this.pendingSize) this.writeSizeUpdate(this.minPendingSize);
      this.writeSizeUpdate(this.pendingSize);
      this.pendingSize = -1;
      this.minPendingSize = -1;
      this.pruneMaps();
    }
    for (let i = 0; i + 1 < fields.length; i += 2) this.encodeField(fields[i]!, fields[i + 1]!);
    return blockOut.subarray(0, this.pos);
  }

  /** Encodes one field into the current block. */
  encodeField(name: string, value: string): void {
    this.ensure(12 + 2 * (name.length + value.length));
    const table = this.table;
    const key = `${name}\0${value}`;
    const staticFull = HPACK_STATIC_FIELD_INDEX.get(key);
    if (staticFull !== undefined) {
      this.pos = encodeHpackInteger(staticFull, 7, 0x80, blockOut, this.pos);
      return;
    }
    const dynFull = this.fieldIndex.get(key);
    if (dynFull !== undefined) {
      const index = table.insertCount - dynFull + 1;
      if (index <= table.length) {
        this.pos = encodeHpackInteger(HPACK_STATIC_COUNT + index, 7, 0x80, blockOut, this.pos);
        return;
      }
      this.fieldIndex.delete(key);
    }
    let nameIdx = HPACK_STATIC_NAME_INDEX.get(name) ?? 0;
    if (nameIdx === 0) {
      const dynName = this.nameIndex.get(name);
      if (dynName !== undefined) {
        const index = table.insertCount - dynName + 1;
        if (index <= table.length) nameIdx = HPACK_STATIC_COUNT + index;
        else this.nameIndex.delete(name);
      }
    }
    const never = isNeverIndexed(name, value);
    const index =
      !never && !NOT_INDEXED_FIELDS.has(name) && hpackEntrySize(name, value) <= (table.maxSize * 3) >> 2;
    // A field kept out of the table on purpose (date, content-length, ...) under a static name
    // encodes to the same octets every time its value repeats (`date` for a whole second): copy
    // them rather than Huffman-encode the value again for every response.
    const memo = !index && !never && nameIdx !== 0 && nameIdx <= HPACK_STATIC_COUNT;
    if (memo) {
      const octets = this.literals.get(key);
      if (octets !== undefined) {
        this.pos += blockOut.write(octets, this.pos, 'latin1');
        return;
      }
    }
    const start = this.pos;
    if (index) {
      // RFC 7541 §6.2.1: literal with incremental indexing.
      this.pos = encodeHpackInteger(nameIdx, 6, 0x40, blockOut, this.pos);
    } else {
      // RFC 7541 §6.2.3 never indexed (0001) or §6.2.2 without indexing (0000).
      this.pos = encodeHpackInteger(nameIdx, 4, never ? 0x10 : 0x00, blockOut, this.pos);
    }
    if (nameIdx === 0) this.writeString(name);
    this.writeString(value);
    if (memo) {
      if (this.literals.size >= MAX_LITERALS) this.literals.clear();
      this.literals.set(key, blockOut.toString('latin1', start, this.pos));
    }
    if (index) {
      table.add(name, value);
      this.fieldIndex.set(key, table.insertCount);
      this.nameIndex.set(name, table.insertCount);
      if (this.fieldIndex.size > 4 * table.length + 64) this.pruneMaps();
    }
  }

  private writeSizeUpdate(size: number): void {
    this.ensure(8);
    this.table.setMaxSize(size);
    // RFC 7541 §6.3: 001 prefix, 5-bit integer.
    this.pos = encodeHpackInteger(size, 5, 0x20, blockOut, this.pos);
  }

  /** RFC 7541 §5.2: Huffman when shorter, else raw octets. */
  private writeString(value: string): void {
    const raw = value.length;
    const huff = this.huffman ? HuffmanCodec.encodedLength(value) : raw;
    if (huff < raw) {
      this.pos = encodeHpackInteger(huff, 7, 0x80, blockOut, this.pos);
      this.pos = HuffmanCodec.encodeInto(value, blockOut, this.pos);
    } else {
      this.pos = encodeHpackInteger(raw, 7, 0x00, blockOut, this.pos);
      this.pos += blockOut.write(value, this.pos, raw, 'latin1');
    }
  }

  /** Drops map entries for evicted fields. */
  private pruneMaps(): void {
    const table = this.table;
    const oldest = table.insertCount - table.length;
    for (const [k, n] of this.fieldIndex) if (n <= oldest) this.fieldIndex.delete(k);
    for (const [k, n] of this.nameIndex) if (n <= oldest) this.nameIndex.delete(k);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= blockOut.length) return;
    const next = Buffer.allocUnsafe(Math.max(blockOut.length * 2, this.pos + extra));
    blockOut.copy(next, 0, 0, this.pos);
    blockOut = next;
  }
}
