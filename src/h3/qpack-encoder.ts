/**
 * The QPACK encoder (RFC 9204 §2.1, §4.3 to §4.5), sans-I/O: `encodeFieldSection` turns a
 * field list into a field section for a request stream and queues encoder-stream instructions
 * (`takeEncoderStreamBytes`); `receiveDecoderStream` takes the peer decoder's acknowledgments.
 *
 * Each field is sent, in order of preference, as a static index, a dynamic index, an entry
 * inserted now and referenced (post-base), or a literal whose name is indexed when possible;
 * strings are Huffman-coded when shorter (§4.1.2). The dynamic table is used only within the
 * peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY, and a section may reference entries the decoder
 * has not acknowledged (so the stream may block) only while fewer than the peer's
 * SETTINGS_QPACK_BLOCKED_STREAMS streams could be blocked (§2.1.2). An entry is evicted only
 * once its insertion is acknowledged and no unacknowledged section references it (§2.1.1);
 * entries close to eviction are not referenced but duplicated (§2.1.1.1, §4.3.4).
 *
 * Indexing policy (as our HPACK encoder's, RFC 7541 §7.1): `authorization`,
 * `proxy-authorization` and short cookies are never inserted and carry the N bit (§4.5.4);
 * fields that change per message (`:path`, `content-length`, `date`, ...) are not inserted.
 */
import { Buffer } from 'node:buffer';
import { isNeverIndexed, NOT_INDEXED_FIELDS } from '../h2/field-indexing-policy.js';
import { QpackDynamicTable, qpackEntrySize } from './qpack-dynamic-table.js';
import { QpackDecoderStreamError } from './qpack-error.js';
import { encodeRequiredInsertCount, qpackMaxEntries } from './qpack-field-section-prefix.js';
import {
  prefixedIntegerEnd,
  type QpackCursor,
  type QpackFailure,
  QpackOutputBuffer,
  readPrefixedInteger,
} from './qpack-primitives.js';
import { QPACK_STATIC_FIELD_INDEX, QPACK_STATIC_NAME_INDEX } from './qpack-static-table.js';

/** Options of {@link QpackEncoder}. */
export interface QpackEncoderOptions {
  /**
   * Largest dynamic table we are willing to keep for the peer, in octets; the table used is
   * the smaller of this and the peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY. 0 disables the
   * dynamic table. Default 4096.
   */
  maxTableCapacity?: number;
  /**
   * The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY, in octets (RFC 9204 §5). Default 0, the
   * value to assume until the peer's SETTINGS arrive; see {@link QpackEncoder.setPeerSettings}.
   */
  peerMaxTableCapacity?: number;
  /** The peer's SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5). Default 0. */
  peerMaxBlockedStreams?: number;
  /** Huffman-code strings when that is shorter (RFC 9204 §4.1.2). Default true. */
  huffman?: boolean;
  /**
   * Part of the table, as a fraction of its capacity, kept for new entries: entries in the
   * oldest part are not referenced any more so that they can be evicted (RFC 9204 §2.1.1.1).
   * Default 0.125.
   */
  drainingFraction?: number;
}

/** A field section with a non-zero Required Insert Count that is not acknowledged yet. */
interface OutstandingSection {
  requiredInsertCount: number;
  /** Lowest absolute index it references: entries from there on must not be evicted. */
  lowestReference: number;
}

/** A QPACK encoder (one per HTTP/3 connection). */
export class QpackEncoder {
  /** The dynamic table as the decoder will have it (exposed for tests and diagnostics). */
  readonly table = new QpackDynamicTable(0);
  private readonly preferredCapacity: number;
  private readonly huffman: boolean;
  private readonly drainingFraction: number;
  private peerMaxTableCapacity = 0;
  private peerMaxBlockedStreams = 0;
  private maxEntries = 0;
  private settingsApplied = false;
  /** RFC 9204 §2.1.4: inserts the decoder has acknowledged. */
  private knownReceived = 0;
  /** Unacknowledged sections referencing the dynamic table, per stream, oldest first. */
  private readonly outstanding = new Map<number, OutstandingSection[]>();
  private readonly encoderStream = new QpackOutputBuffer(256);
  private readonly body = new QpackOutputBuffer(512);
  private decoderPending: Buffer = Buffer.alloc(0);
  private readonly cursor: QpackCursor = { offset: 0 };
  private readonly decoderFail: QpackFailure = (message) => new QpackDecoderStreamError(message);

  constructor(options: QpackEncoderOptions = {}) {
    this.preferredCapacity = options.maxTableCapacity ?? 4096;
    this.huffman = options.huffman ?? true;
    this.drainingFraction = options.drainingFraction ?? 0.125;
    if (options.peerMaxTableCapacity !== undefined || options.peerMaxBlockedStreams !== undefined) {
      this.setPeerSettings(options.peerMaxTableCapacity ?? 0, options.peerMaxBlockedStreams ?? 0);
    }
  }

  /**
   * The peer's SETTINGS arrived (once per connection, RFC 9114 §7.2.4): the table capacity
   * becomes min(ours, theirs), announced with Set Dynamic Table Capacity (RFC 9204 §4.3.1).
   */
  setPeerSettings(maxTableCapacity: number, maxBlockedStreams: number): void {
    if (this.settingsApplied) throw new Error('QpackEncoder: the peer settings were already applied');
    this.settingsApplied = true;
    this.peerMaxTableCapacity = maxTableCapacity;
    this.peerMaxBlockedStreams = maxBlockedStreams;
    this.maxEntries = qpackMaxEntries(maxTableCapacity);
    const capacity = Math.min(this.preferredCapacity, maxTableCapacity);
    if (capacity > 0) {
      this.table.setCapacity(capacity);
      // RFC 9204 §4.3.1: Set Dynamic Table Capacity, 001 + 5-bit prefix.
      this.encoderStream.writeInteger(capacity, 5, 0x20);
    }
  }

  /** The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY. */
  get peerTableCapacity(): number {
    return this.peerMaxTableCapacity;
  }

  /** RFC 9204 §2.1.4: the Known Received Count. */
  get knownReceivedCount(): number {
    return this.knownReceived;
  }

  /** Streams that could be blocked at the decoder now (RFC 9204 §2.1.2). */
  get blockingStreamCount(): number {
    let n = 0;
    for (const sections of this.outstanding.values()) if (this.isBlocking(sections)) n++;
    return n;
  }

  /**
   * Encodes the fields `[name0, value0, ...]` (lowercase names, latin1 octet strings) as a
   * field section for `streamId` (RFC 9204 §4.5). Instructions it needs on the encoder stream
   * are queued: send them (see {@link takeEncoderStreamBytes}) no later than the section.
   */
  encodeFieldSection(streamId: number, fields: readonly string[]): Buffer {
    const table = this.table;
    const body = this.body;
    body.reset();
    const base = table.insertCount;
    const dynamic = table.capacity > 0;
    const sections = this.outstanding.get(streamId);
    const mayBlock =
      dynamic &&
      ((sections !== undefined && this.isBlocking(sections)) ||
        this.blockingStreamCount < this.peerMaxBlockedStreams);
    const draining = dynamic ? table.drainingIndex(Math.floor(table.capacity * this.drainingFraction)) : 0;
    let required = 0;
    let lowest = Number.POSITIVE_INFINITY;
    const reference = (abs: number): void => {
      if (abs + 1 > required) required = abs + 1;
      if (abs < lowest) lowest = abs;
    };
    // An entry may be used if the decoder has it, or if this stream may block on it.
    const usable = (abs: number): boolean => abs >= 0 && (abs < this.knownReceived || mayBlock);
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const name = fields[i]!;
      const value = fields[i + 1]!;
      const key = `${name}\0${value}`;
      const staticIndex = QPACK_STATIC_FIELD_INDEX.get(key);
      if (staticIndex !== undefined) {
        // RFC 9204 §4.5.2: Indexed Field Line, 1 T=1 index(6+).
        body.writeInteger(staticIndex, 6, 0xc0);
        continue;
      }
      const never = isNeverIndexed(name, value);
      if (dynamic && !never) {
        let abs = table.findField(name, value, table.droppedCount);
        if (abs !== -1 && abs < draining && usable(table.insertCount)) {
          // RFC 9204 §2.1.1.1: about to be evicted; refresh it with a Duplicate (§4.3.4).
          abs = this.canInsert(qpackEntrySize(name, value), lowest) ? this.duplicate(abs) : -1;
        }
        if (abs === -1 && !NOT_INDEXED_FIELDS.has(name) && this.shouldInsert(name, value, lowest)) {
          abs = this.insert(name, value);
        }
        if (abs !== -1 && usable(abs)) {
          reference(abs);
          if (abs < base) body.writeInteger(base - 1 - abs, 6, 0x80);
          // RFC 9204 §4.5.3: Indexed Field Line with Post-Base Index, 0001 index(4+).
          else body.writeInteger(abs - base, 4, 0x10);
          continue;
        }
      }
      // A literal, with the name from a table when possible.
      const nBit = never ? 0x20 : 0;
      const staticName = QPACK_STATIC_NAME_INDEX.get(name);
      if (staticName !== undefined) {
        // RFC 9204 §4.5.4: Literal Field Line with Name Reference, 01 N T=1 index(4+).
        body.writeInteger(staticName, 4, 0x50 | nBit);
      } else {
        const abs = dynamic ? table.findName(name, Math.max(draining, table.droppedCount)) : -1;
        if (abs !== -1 && usable(abs)) {
          reference(abs);
          if (abs < base) body.writeInteger(base - 1 - abs, 4, 0x40 | nBit);
          // RFC 9204 §4.5.5: Literal Field Line with Post-Base Name Reference, 0000 N index(3+).
          else body.writeInteger(abs - base, 3, nBit >> 2);
        } else {
          // RFC 9204 §4.5.6: Literal Field Line with Literal Name, 001 N H name(3+).
          body.writeString(name, 3, 0x20 | (nBit >> 1), this.huffman);
        }
      }
      body.writeString(value, 7, 0x00, this.huffman);
    }
    // RFC 9204 §4.5.1: the prefix, Required Insert Count (8+) then S and Delta Base (7+).
    const prefix = new QpackOutputBuffer(16);
    prefix.writeInteger(encodeRequiredInsertCount(required, this.maxEntries), 8, 0x00);
    if (required === 0 || base >= required)
      prefix.writeInteger(required === 0 ? 0 : base - required, 7, 0x00);
    else prefix.writeInteger(required - base - 1, 7, 0x80);
    if (required > 0) {
      const record = { requiredInsertCount: required, lowestReference: lowest };
      if (sections === undefined) this.outstanding.set(streamId, [record]);
      else sections.push(record);
    }
    return Buffer.concat([prefix.view(), body.view()]);
  }

  /** The encoder-stream bytes to send (RFC 9204 §4.3); empty when there is nothing new. */
  takeEncoderStreamBytes(): Buffer {
    return this.encoderStream.take();
  }

  /**
   * Processes bytes of the peer's decoder stream (RFC 9204 §4.4); an instruction may be split
   * across calls. Throws {@link QpackDecoderStreamError} on an instruction that cannot be right.
   */
  receiveDecoderStream(chunk: Uint8Array): void {
    const input = this.decoderPending.length === 0 ? chunk : Buffer.concat([this.decoderPending, chunk]);
    const end = input.length;
    const cursor = this.cursor;
    const fail = this.decoderFail;
    let offset = 0;
    while (offset < end) {
      const first = input[offset]!;
      const prefixBits = first & 0x80 ? 7 : 6;
      const stop = prefixedIntegerEnd(input, offset, end, prefixBits);
      if (stop === -1) break;
      cursor.offset = offset;
      const n = readPrefixedInteger(input, cursor, end, prefixBits, fail);
      offset = stop;
      if (first & 0x80) this.onSectionAcknowledgment(n);
      else if (first & 0x40)
        this.outstanding.delete(n); // RFC 9204 §4.4.2: Stream Cancellation.
      else this.onInsertCountIncrement(n);
    }
    if (end - offset > 10) throw fail('decoder instruction integer longer than 62 bits (RFC 9204 §4.1.1)');
    this.decoderPending = Buffer.from(input.subarray(offset, end));
  }

  /** RFC 9204 §4.4.1: the oldest unacknowledged section of the stream was decoded. */
  private onSectionAcknowledgment(streamId: number): void {
    const sections = this.outstanding.get(streamId);
    const first = sections?.shift();
    if (first === undefined) {
      throw new QpackDecoderStreamError(
        `Section Acknowledgment for stream ${streamId}, which has no unacknowledged field section (RFC 9204 §4.4.1)`,
      );
    }
    if (sections!.length === 0) this.outstanding.delete(streamId);
    if (first.requiredInsertCount > this.knownReceived) this.knownReceived = first.requiredInsertCount;
  }

  /** RFC 9204 §4.4.3: Insert Count Increment. */
  private onInsertCountIncrement(increment: number): void {
    if (increment === 0 || this.knownReceived + increment > this.table.insertCount) {
      throw new QpackDecoderStreamError(
        `Insert Count Increment of ${increment} is zero or beyond the ${this.table.insertCount} entries sent (RFC 9204 §4.4.3)`,
      );
    }
    this.knownReceived += increment;
  }

  private isBlocking(sections: readonly OutstandingSection[]): boolean {
    for (const s of sections) if (s.requiredInsertCount > this.knownReceived) return true;
    return false;
  }

  /** Whether to insert a field: it must be worth it and fit without evicting pinned entries. */
  private shouldInsert(name: string, value: string, currentLowest: number): boolean {
    const size = qpackEntrySize(name, value);
    return size <= (this.table.capacity * 3) >> 2 && this.canInsert(size, currentLowest);
  }

  /**
   * RFC 9204 §2.1.1: an entry of `size` octets may be inserted only if every entry it evicts
   * has its insertion acknowledged and is referenced by no unacknowledged section (nor by the
   * section being encoded, whose lowest reference is `currentLowest`).
   */
  private canInsert(size: number, currentLowest: number): boolean {
    const table = this.table;
    const n = table.evictionsNeeded(size);
    if (n === -1) return false;
    if (n === 0) return true;
    let pinned = Math.min(currentLowest, this.knownReceived);
    for (const sections of this.outstanding.values()) {
      for (const s of sections) if (s.lowestReference < pinned) pinned = s.lowestReference;
    }
    return table.droppedCount + n <= pinned;
  }

  /** Inserts a field with the cheapest encoder instruction (RFC 9204 §4.3.2, §4.3.3). */
  private insert(name: string, value: string): number {
    const table = this.table;
    const out = this.encoderStream;
    const staticName = QPACK_STATIC_NAME_INDEX.get(name);
    if (staticName !== undefined) {
      // RFC 9204 §4.3.2: Insert with Name Reference, 1 T=1 index(6+) H value(7+).
      out.writeInteger(staticName, 6, 0xc0);
    } else {
      const abs = table.findName(name, table.droppedCount);
      if (abs !== -1) {
        // T=0: relative index from the Insert Count (§3.2.5).
        out.writeInteger(table.insertCount - 1 - abs, 6, 0x80);
      } else {
        // RFC 9204 §4.3.3: Insert with Literal Name, 01 H name(5+) H value(7+).
        out.writeString(name, 5, 0x40, this.huffman);
      }
    }
    out.writeString(value, 7, 0x00, this.huffman);
    table.insert(name, value);
    return table.insertCount - 1;
  }

  /** RFC 9204 §4.3.4: Duplicate, 000 index(5+); returns the new entry's absolute index. */
  private duplicate(abs: number): number {
    const table = this.table;
    this.encoderStream.writeInteger(table.insertCount - 1 - abs, 5, 0x00);
    table.insert(table.nameAt(abs), table.valueAt(abs));
    return table.insertCount - 1;
  }
}
