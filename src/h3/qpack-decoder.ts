/**
 * The QPACK decoder (RFC 9204 §2.2, §4.3 to §4.5), sans-I/O: it is fed the peer encoder's
 * stream bytes (`receiveEncoderStream`) and the field sections of request streams
 * (`decodeFieldSection`, or `receiveFieldSectionData` + `endFieldSection` chunk by chunk),
 * returns decoded field sections, and queues the decoder-stream instructions to send back
 * (`takeDecoderStreamBytes`).
 *
 * Blocked streams (§2.1.2, §2.2.1): a section whose Required Insert Count is above the Insert
 * Count is held (at most `maxBlockedStreams` streams) and returned by the
 * `receiveEncoderStream` call that brings the entries it needs.
 *
 * Limits: the encoder-stream bytes held for an incomplete instruction are bounded by what an
 * entry that fits the table can take; a field section's encoded size by four times
 * `maxFieldSectionSize`; decoded fields past `maxFieldSectionSize` are dropped and the section
 * flagged `tooLarge` (the section is still decoded to the end and acknowledged, so the
 * encoder's view stays right; the HTTP/3 layer then refuses the message, RFC 9114 §4.2.2).
 */
import { Buffer } from 'node:buffer';
import { QpackDynamicTable } from './qpack-dynamic-table.js';
import { QpackDecompressionError, QpackEncoderStreamError, type QpackError } from './qpack-error.js';
import { decodeBase, decodeRequiredInsertCount, qpackMaxEntries } from './qpack-field-section-prefix.js';
import {
  prefixedIntegerEnd,
  type QpackCursor,
  type QpackFailure,
  QpackOutputBuffer,
  readPrefixedInteger,
  readStringLiteral,
  stringLiteralEnd,
} from './qpack-primitives.js';
import { QPACK_STATIC_COUNT, QPACK_STATIC_TABLE } from './qpack-static-table.js';

/** Options of {@link QpackDecoder}: the values we announce in our SETTINGS (RFC 9204 §5). */
export interface QpackDecoderOptions {
  /**
   * SETTINGS_QPACK_MAX_TABLE_CAPACITY (RFC 9204 §3.2.3, §5): the largest dynamic table the
   * peer's encoder may use, in octets. Default 4096.
   */
  maxTableCapacity?: number;
  /**
   * SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §2.1.2, §5): how many streams may wait for
   * encoder-stream data at once. Default 100.
   */
  maxBlockedStreams?: number;
  /**
   * SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2): largest decoded field section kept, in
   * octets counted as name + value + 32 per field. Default 65536.
   */
  maxFieldSectionSize?: number;
  /**
   * Dynamic table capacity before the encoder sets one, in octets. RFC 9204 §3.2.3 says 0 (the
   * default); drafts up to -06 started at the maximum, as the qpack-05 interop files expect.
   */
  initialTableCapacity?: number;
}

/** A decoded field section. */
export interface QpackFieldSection {
  /** The request or push stream it came on. */
  streamId: number;
  /** Fields as a flat list `[name0, value0, name1, value1, ...]` of latin1 (octet) strings. */
  fields: string[];
  /** Its Required Insert Count (RFC 9204 §4.5.1.1); 0 when it does not use the dynamic table. */
  requiredInsertCount: number;
  /** Its size as RFC 9114 §4.2.2 counts it (name + value + 32 per field), counted to the end. */
  size: number;
  /** True when `size` exceeds `maxFieldSectionSize`: `fields` was cut short. */
  tooLarge: boolean;
}

/** A field section waiting for encoder-stream data (RFC 9204 §2.2.1). */
interface BlockedSection {
  streamId: number;
  bytes: Buffer;
  /** Required Insert Count, Base and offset of the first field line, read on arrival. */
  prefix: SectionPrefix;
}

/** What {@link QpackDecoder} reads from a field section prefix (RFC 9204 §4.5.1). */
type SectionPrefix = readonly [requiredInsertCount: number, base: number, start: number];

/** A QPACK decoder (one per HTTP/3 connection). */
export class QpackDecoder {
  /** The dynamic table (exposed for tests and diagnostics). */
  readonly table: QpackDynamicTable;
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY we announced. */
  readonly maxTableCapacity: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS we announced. */
  readonly maxBlockedStreams: number;
  private readonly maxFieldSectionSize: number;
  private readonly maxEntries: number;
  /** Bytes of an encoder-stream instruction not complete yet. */
  private encoderPending: Buffer = Buffer.alloc(0);
  private readonly encoderPendingLimit: number;
  /** Field section bytes received so far, per stream (chunked input). */
  private readonly partial = new Map<number, Buffer[]>();
  private readonly partialSize = new Map<number, number>();
  /** Blocked sections in arrival order. */
  private blocked: BlockedSection[] = [];
  /** Insert Count the encoder knows we have (RFC 9204 §2.1.4), from our acks and increments. */
  private knownReceivedCount = 0;
  private readonly out = new QpackOutputBuffer(64);
  private failure: QpackError | undefined;
  private readonly cursor: QpackCursor = { offset: 0 };
  private readonly encoderFail: QpackFailure = (message) => new QpackEncoderStreamError(message);

  constructor(options: QpackDecoderOptions = {}) {
    this.maxTableCapacity = options.maxTableCapacity ?? 4096;
    this.maxBlockedStreams = options.maxBlockedStreams ?? 100;
    this.maxFieldSectionSize = options.maxFieldSectionSize ?? 65536;
    this.maxEntries = qpackMaxEntries(this.maxTableCapacity);
    const initial = Math.min(options.initialTableCapacity ?? 0, this.maxTableCapacity);
    this.table = new QpackDynamicTable(initial);
    // Huffman needs at most 30 bits per octet: an insertion that fits the table is shorter.
    this.encoderPendingLimit = 4 * this.maxTableCapacity + 64;
  }

  /** Streams whose field sections wait for encoder-stream data. */
  get blockedStreamCount(): number {
    return new Set(this.blocked.map((b) => b.streamId)).size;
  }

  /** RFC 9204 §2.1.4: the Insert Count the peer's encoder has been told about. */
  get acknowledgedInsertCount(): number {
    return this.knownReceivedCount;
  }

  /**
   * Processes bytes of the peer's encoder stream (RFC 9204 §4.3); an instruction may be split
   * across calls. Returns the blocked field sections this data made decodable, in the order
   * they arrived. Throws {@link QpackEncoderStreamError} on a bad instruction, or
   * {@link QpackDecompressionError} when an unblocked section turns out to be malformed.
   */
  receiveEncoderStream(chunk: Uint8Array): QpackFieldSection[] {
    this.checkUsable();
    try {
      const input = this.encoderPending.length === 0 ? chunk : Buffer.concat([this.encoderPending, chunk]);
      const end = input.length;
      let offset = 0;
      for (;;) {
        const next = this.parseEncoderInstruction(input, offset, end);
        if (next === -1) break;
        offset = next;
      }
      if (end - offset > this.encoderPendingLimit) {
        throw new QpackEncoderStreamError(
          'encoder instruction larger than any entry the table can hold (RFC 9204 §3.2.2, §4.3)',
        );
      }
      this.encoderPending = Buffer.from(input.subarray(offset, end));
      return this.unblock();
    } catch (err) {
      throw this.fail(err);
    }
  }

  /**
   * Decodes one complete field section (RFC 9204 §4.5) received on `streamId`. Returns it, or
   * `undefined` when it is blocked (it is then returned by a later `receiveEncoderStream`).
   * Throws {@link QpackDecompressionError} when it is malformed or too many streams are blocked.
   */
  decodeFieldSection(streamId: number, section: Uint8Array): QpackFieldSection | undefined {
    this.checkUsable();
    try {
      const prefix = this.readPrefix(streamId, section);
      const waiting = this.blocked.some((b) => b.streamId === streamId);
      if (waiting || prefix[0] > this.table.insertCount) {
        // RFC 9204 §2.2.1: blocked (or behind a blocked section of the same stream); more
        // blocked streams than we allow is an error.
        if (!waiting && this.blockedStreamCount + 1 > this.maxBlockedStreams) {
          throw new QpackDecompressionError(
            streamId,
            `stream ${streamId} would be blocked but ${this.maxBlockedStreams} streams already are (RFC 9204 §2.2.1)`,
          );
        }
        this.blocked.push({ streamId, bytes: Buffer.from(section), prefix });
        return undefined;
      }
      return this.decodeNow(streamId, section, prefix);
    } catch (err) {
      throw this.fail(err);
    }
  }

  /**
   * Adds bytes of the field section being received on `streamId` (for callers that get a
   * HEADERS frame's payload in pieces); {@link endFieldSection} decodes it.
   */
  receiveFieldSectionData(streamId: number, chunk: Uint8Array): void {
    this.checkUsable();
    const size = (this.partialSize.get(streamId) ?? 0) + chunk.length;
    if (size > 4 * this.maxFieldSectionSize + 64) {
      throw this.fail(
        new QpackDecompressionError(streamId, `encoded field section on stream ${streamId} is too large`),
      );
    }
    let chunks = this.partial.get(streamId);
    if (chunks === undefined) {
      chunks = [];
      this.partial.set(streamId, chunks);
    }
    chunks.push(Buffer.from(chunk));
    this.partialSize.set(streamId, size);
  }

  /** The field section of `streamId` is complete: decodes it as {@link decodeFieldSection} does. */
  endFieldSection(streamId: number): QpackFieldSection | undefined {
    const chunks = this.partial.get(streamId) ?? [];
    this.partial.delete(streamId);
    this.partialSize.delete(streamId);
    return this.decodeFieldSection(streamId, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  /**
   * The stream was reset or abandoned before its field sections were all decoded: forgets
   * them and queues a Stream Cancellation (RFC 9204 §4.4.2; not needed, and not sent, when
   * our maximum table capacity is 0).
   */
  cancelStream(streamId: number): void {
    this.blocked = this.blocked.filter((b) => b.streamId !== streamId);
    this.partial.delete(streamId);
    this.partialSize.delete(streamId);
    if (this.maxTableCapacity > 0) this.out.writeInteger(streamId, 6, 0x40);
  }

  /**
   * The decoder-stream bytes to send (RFC 9204 §4.4): Section Acknowledgments and Stream
   * Cancellations in order, then one Insert Count Increment for entries not acknowledged
   * otherwise. Empty when there is nothing to send.
   */
  takeDecoderStreamBytes(): Buffer {
    const inserted = this.table.insertCount;
    if (inserted > this.knownReceivedCount) {
      // RFC 9204 §4.4.3: Insert Count Increment, 00 + 6-bit prefix.
      this.out.writeInteger(inserted - this.knownReceivedCount, 6, 0x00);
      this.knownReceivedCount = inserted;
    }
    return this.out.take();
  }

  /** Parses one encoder instruction at `offset`; returns the offset after it, or -1 if incomplete. */
  private parseEncoderInstruction(input: Uint8Array, offset: number, end: number): number {
    if (offset >= end) return -1;
    const first = input[offset]!;
    const table = this.table;
    const cursor = this.cursor;
    const fail = this.encoderFail;
    if (first & 0x80) {
      // RFC 9204 §4.3.2: Insert with Name Reference, 1 T index(6+) H value(7+).
      if (prefixedIntegerEnd(input, offset, end, 6) === -1) return -1;
      // The name reference is checked as soon as it is complete, before the value arrives.
      cursor.offset = offset;
      const index = readPrefixedInteger(input, cursor, end, 6, fail);
      let name: string;
      if (first & 0x40) {
        if (index >= QPACK_STATIC_COUNT) {
          throw new QpackEncoderStreamError(`static table index ${index} does not exist (RFC 9204 §3.1)`);
        }
        name = QPACK_STATIC_TABLE[index]![0];
      } else {
        name = table.nameAt(this.encoderRelative(index));
      }
      const stop = stringLiteralEnd(input, cursor.offset, end, 7, fail);
      if (stop === -1) return -1;
      const value = readStringLiteral(input, cursor, end, 7, fail);
      this.insert(name, value);
      return stop;
    }
    if (first & 0x40) {
      // RFC 9204 §4.3.3: Insert with Literal Name, 01 H name(5+) H value(7+).
      const nameEnd = stringLiteralEnd(input, offset, end, 5, fail);
      if (nameEnd === -1) return -1;
      const stop = stringLiteralEnd(input, nameEnd, end, 7, fail);
      if (stop === -1) return -1;
      cursor.offset = offset;
      const name = readStringLiteral(input, cursor, end, 5, fail);
      const value = readStringLiteral(input, cursor, end, 7, fail);
      this.insert(name, value);
      return stop;
    }
    const stop = prefixedIntegerEnd(input, offset, end, 5);
    if (stop === -1) return -1;
    cursor.offset = offset;
    const n = readPrefixedInteger(input, cursor, end, 5, fail);
    if (first & 0x20) {
      // RFC 9204 §4.3.1: Set Dynamic Table Capacity, 001 capacity(5+).
      if (n > this.maxTableCapacity) {
        throw new QpackEncoderStreamError(
          `dynamic table capacity ${n} exceeds our maximum ${this.maxTableCapacity} (RFC 9204 §4.3.1)`,
        );
      }
      table.setCapacity(n);
    } else {
      // RFC 9204 §4.3.4: Duplicate, 000 index(5+).
      const abs = this.encoderRelative(n);
      this.insert(table.nameAt(abs), table.valueAt(abs));
    }
    return stop;
  }

  /** RFC 9204 §3.2.5: absolute index of an encoder-stream relative index; must be in the table. */
  private encoderRelative(relative: number): number {
    const abs = this.table.insertCount - 1 - relative;
    if (!this.table.has(abs)) {
      throw new QpackEncoderStreamError(
        `relative index ${relative} is not in the dynamic table (RFC 9204 §3.2.5, §4.3)`,
      );
    }
    return abs;
  }

  /** RFC 9204 §3.2.2: an entry larger than the capacity is an encoder-stream error. */
  private insert(name: string, value: string): void {
    if (this.table.evictionsNeeded(name.length + value.length + 32) === -1) {
      throw new QpackEncoderStreamError(
        `entry of ${name.length + value.length + 32} octets exceeds the table capacity ${this.table.capacity} (RFC 9204 §3.2.2)`,
      );
    }
    this.table.insert(name, value);
  }

  /** Decodes the blocked sections the Insert Count now allows, in arrival order. */
  private unblock(): QpackFieldSection[] {
    const ready: QpackFieldSection[] = [];
    if (this.blocked.length === 0) return ready;
    const inserted = this.table.insertCount;
    const stillBlocked = new Set<number>();
    const remaining: BlockedSection[] = [];
    for (const b of this.blocked) {
      if (b.prefix[0] > inserted || stillBlocked.has(b.streamId)) {
        stillBlocked.add(b.streamId);
        remaining.push(b);
      } else {
        ready.push(this.decodeNow(b.streamId, b.bytes, b.prefix));
      }
    }
    this.blocked = remaining;
    return ready;
  }

  /** RFC 9204 §4.5.1: the Required Insert Count and the Base of a section. */
  private readPrefix(streamId: number, section: Uint8Array): SectionPrefix {
    const fail: QpackFailure = (message) => new QpackDecompressionError(streamId, message);
    const cursor = this.cursor;
    cursor.offset = 0;
    const end = section.length;
    const encoded = readPrefixedInteger(section, cursor, end, 8, fail);
    const required = decodeRequiredInsertCount(encoded, this.maxEntries, this.table.insertCount);
    if (required === -1) {
      throw fail(`invalid Encoded Required Insert Count ${encoded} (RFC 9204 §4.5.1.1)`);
    }
    if (cursor.offset >= end) throw fail('field section prefix ends before the Base (RFC 9204 §4.5.1)');
    const sign = (section[cursor.offset]! & 0x80) !== 0;
    const delta = readPrefixedInteger(section, cursor, end, 7, fail);
    const base = decodeBase(required, sign, delta);
    if (base === -1) throw fail('negative Base (RFC 9204 §4.5.1.2)');
    return [required, base, cursor.offset];
  }

  /** Decodes a section whose Required Insert Count is reached, and acknowledges it (§4.4.1). */
  private decodeNow(streamId: number, section: Uint8Array, prefix: SectionPrefix): QpackFieldSection {
    const fail: QpackFailure = (message) => new QpackDecompressionError(streamId, message);
    const [required, base, start] = prefix;
    const table = this.table;
    const cursor = this.cursor;
    cursor.offset = start;
    const end = section.length;
    const limit = this.maxFieldSectionSize;
    const fields: string[] = [];
    let size = 0;
    let keep = true;
    // RFC 9204 §2.2.3: a dynamic reference must be below the Required Insert Count and present.
    const dynamic = (abs: number): number => {
      if (abs < 0 || abs >= required || !table.has(abs)) {
        throw fail(`dynamic table reference to absolute index ${abs} is invalid (RFC 9204 §2.2.3)`);
      }
      return abs;
    };
    while (cursor.offset < end) {
      const first = section[cursor.offset]!;
      let name: string;
      let value: string;
      if (first & 0x80) {
        // RFC 9204 §4.5.2: Indexed Field Line, 1 T index(6+).
        const index = readPrefixedInteger(section, cursor, end, 6, fail);
        if (first & 0x40) {
          if (index >= QPACK_STATIC_COUNT)
            throw fail(`static table index ${index} does not exist (RFC 9204 §3.1)`);
          [name, value] = QPACK_STATIC_TABLE[index]!;
        } else {
          const abs = dynamic(base - 1 - index);
          name = table.nameAt(abs);
          value = table.valueAt(abs);
        }
      } else if (first & 0x40) {
        // RFC 9204 §4.5.4: Literal Field Line with Name Reference, 01 N T index(4+) H value(7+).
        const index = readPrefixedInteger(section, cursor, end, 4, fail);
        if (first & 0x10) {
          if (index >= QPACK_STATIC_COUNT)
            throw fail(`static table index ${index} does not exist (RFC 9204 §3.1)`);
          name = QPACK_STATIC_TABLE[index]![0];
        } else {
          name = table.nameAt(dynamic(base - 1 - index));
        }
        value = readStringLiteral(section, cursor, end, 7, fail);
      } else if (first & 0x20) {
        // RFC 9204 §4.5.6: Literal Field Line with Literal Name, 001 N H name(3+) H value(7+).
        name = readStringLiteral(section, cursor, end, 3, fail);
        value = readStringLiteral(section, cursor, end, 7, fail);
      } else if (first & 0x10) {
        // RFC 9204 §4.5.3: Indexed Field Line with Post-Base Index, 0001 index(4+).
        const abs = dynamic(base + readPrefixedInteger(section, cursor, end, 4, fail));
        name = table.nameAt(abs);
        value = table.valueAt(abs);
      } else {
        // RFC 9204 §4.5.5: Literal Field Line with Post-Base Name Reference, 0000 N index(3+) H value(7+).
        name = table.nameAt(dynamic(base + readPrefixedInteger(section, cursor, end, 3, fail)));
        value = readStringLiteral(section, cursor, end, 7, fail);
      }
      size += name.length + value.length + 32;
      if (keep) {
        if (size > limit) keep = false;
        else fields.push(name, value);
      }
    }
    if (required > 0) {
      // RFC 9204 §4.4.1: Section Acknowledgment, 1 + stream id(7+); it also tells the encoder
      // that we have every entry below the Required Insert Count (§2.1.4).
      this.out.writeInteger(streamId, 7, 0x80);
      if (required > this.knownReceivedCount) this.knownReceivedCount = required;
    }
    return { streamId, fields, requiredInsertCount: required, size, tooLarge: !keep };
  }

  private checkUsable(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  /** Every QPACK error is a connection error (RFC 9204 §6): the decoder stays failed. */
  private fail(err: unknown): unknown {
    if (err instanceof QpackDecompressionError || err instanceof QpackEncoderStreamError) this.failure = err;
    return err;
  }
}
