/**
 * The HPACK decoder (RFC 7541 §3, §6): turns a header block into a flat field list
 * `[name0, value0, name1, value1, ...]`, keeping the dynamic table in step with the peer's
 * encoder.
 *
 * HPACK-bomb defence (RFC 9113 §10.5.1, RFC 7541 §7.3): fields are counted as RFC 9113 §6.5.2
 * counts them (name + value + 32); once a block passes `maxHeaderListSize` no more fields are
 * kept, but the block is still decoded to the end so that the dynamic table stays in sync
 * (the connection can then refuse just that stream). Decoded strings are never longer than
 * the block itself, so memory is bounded by the block size limit.
 */
import { Buffer } from 'node:buffer';
import { HpackError } from './h2-error.js';
import { HpackDynamicTable } from './hpack-dynamic-table.js';
import { decodeHpackInteger, type HpackCursor } from './hpack-integer.js';
import { HPACK_STATIC_COUNT, HPACK_STATIC_TABLE } from './hpack-static-table.js';
import { HuffmanCodec } from './huffman-codec.js';

/** Options of {@link HpackDecoder}. */
export interface HpackDecoderOptions {
  /**
   * Largest dynamic table the peer's encoder may use, in octets: our
   * SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2). Default 4096.
   */
  maxTableSize?: number;
  /** Largest decoded header list kept, in octets as RFC 9113 §6.5.2 counts them. Default 65536. */
  maxHeaderListSize?: number;
}

/** An HPACK decoding context (one per connection and direction). */
export class HpackDecoder {
  /** The dynamic table (exposed for tests and diagnostics). */
  readonly table: HpackDynamicTable;
  /** True when the last block went over `maxHeaderListSize` (its list was cut short). */
  tooLarge = false;
  /** Size of the last block's header list (RFC 9113 §6.5.2), counted up to the end. */
  listSize = 0;

  private maxTableSize: number;
  private maxHeaderListSize: number;
  /** A lower maximum we announced: the next block must start with a size update (§4.2). */
  private pendingSizeUpdate = false;
  private readonly cursor: HpackCursor = { offset: 0 };

  constructor(options: HpackDecoderOptions = {}) {
    this.maxTableSize = options.maxTableSize ?? 4096;
    this.maxHeaderListSize = options.maxHeaderListSize ?? 65536;
    this.table = new HpackDynamicTable(this.maxTableSize);
  }

  /**
   * Changes the table size we allow (after the peer acknowledged the SETTINGS that said so).
   * A smaller value obliges the encoder to signal a size update in its next block.
   */
  setMaxTableSize(size: number): void {
    if (size < this.table.maxSize) this.pendingSizeUpdate = true;
    this.maxTableSize = size;
  }

  /** Changes the header list limit. */
  setMaxHeaderListSize(size: number): void {
    this.maxHeaderListSize = size;
  }

  /**
   * Decodes one complete header block (RFC 7541 §3.1). Throws {@link HpackError} when the
   * block is malformed; the connection must then fail (RFC 9113 §4.3).
   */
  decode(block: Uint8Array): string[] {
    const fields: string[] = [];
    const cursor = this.cursor;
    cursor.offset = 0;
    const end = block.length;
    const table = this.table;
    let listSize = 0;
    let keep = true;
    let fieldsSeen = false;
    while (cursor.offset < end) {
      const first = block[cursor.offset]!;
      let name: string;
      let value: string;
      if (first & 0x80) {
        // RFC 7541 §6.1: indexed header field.
        const index = decodeHpackInteger(block, cursor, end, 7);
        if (index === 0) throw new HpackError('indexed field with index 0 (RFC 7541 §6.1)');
        if (index <= HPACK_STATIC_COUNT) {
          const entry = HPACK_STATIC_TABLE[index - 1]!;
          name = entry[0];
          value = entry[1];
        } else {
          const dyn = index - HPACK_STATIC_COUNT;
          if (dyn > table.length)
            throw new HpackError(`index ${index} is outside the tables (RFC 7541 §2.3.3)`);
          name = table.nameAt(dyn);
          value = table.valueAt(dyn);
        }
      } else if ((first & 0xe0) === 0x20) {
        // RFC 7541 §6.3: dynamic table size update, only at the start of a block (§4.2).
        if (fieldsSeen) throw new HpackError('table size update after a field (RFC 7541 §4.2)');
        const size = decodeHpackInteger(block, cursor, end, 5);
        if (size > this.maxTableSize) {
          throw new HpackError(
            `table size update to ${size} exceeds the limit ${this.maxTableSize} (RFC 7541 §6.3)`,
          );
        }
        table.setMaxSize(size);
        this.pendingSizeUpdate = false;
        continue;
      } else {
        // RFC 7541 §6.2.1 (01), §6.2.2 (0000), §6.2.3 (0001): literal fields.
        const incremental = (first & 0x40) !== 0;
        const index = decodeHpackInteger(block, cursor, end, incremental ? 6 : 4);
        if (index === 0) {
          name = this.readString(block, end);
        } else if (index <= HPACK_STATIC_COUNT) {
          name = HPACK_STATIC_TABLE[index - 1]![0];
        } else {
          const dyn = index - HPACK_STATIC_COUNT;
          if (dyn > table.length)
            throw new HpackError(`index ${index} is outside the tables (RFC 7541 §2.3.3)`);
          name = table.nameAt(dyn);
        }
        value = this.readString(block, end);
        if (incremental) table.add(name, value);
      }
      if (this.pendingSizeUpdate) {
        throw new HpackError(
          'expected a dynamic table size update at the start of the block (RFC 7541 §4.2)',
        );
      }
      fieldsSeen = true;
      listSize += name.length + value.length + 32;
      if (keep) {
        if (listSize > this.maxHeaderListSize) keep = false;
        else fields.push(name, value);
      }
    }
    if (this.pendingSizeUpdate) {
      throw new HpackError('expected a dynamic table size update at the start of the block (RFC 7541 §4.2)');
    }
    this.tooLarge = !keep;
    this.listSize = listSize;
    return fields;
  }

  /** RFC 7541 §5.2: a string literal, Huffman-coded or raw. */
  private readString(block: Uint8Array, end: number): string {
    const cursor = this.cursor;
    if (cursor.offset >= end) throw new HpackError('truncated string (RFC 7541 §5.2)');
    const huffman = (block[cursor.offset]! & 0x80) !== 0;
    const length = decodeHpackInteger(block, cursor, end, 7);
    const start = cursor.offset;
    if (length > end - start) throw new HpackError('string runs past the end of the block (RFC 7541 §5.2)');
    cursor.offset = start + length;
    if (huffman) return HuffmanCodec.decode(block, start, length);
    return latin1(block, start, length);
  }
}

function latin1(block: Uint8Array, start: number, length: number): string {
  if (length === 0) return '';
  if (block instanceof Buffer) return block.toString('latin1', start, start + length);
  return Buffer.from(block.buffer, block.byteOffset + start, length).toString('latin1');
}
