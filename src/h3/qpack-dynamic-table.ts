/**
 * The QPACK dynamic table (RFC 9204 §3.2): a FIFO of fields addressed by absolute index
 * (§3.2.4: the first entry inserted is 0, and indices never change), whose size (name length
 * + value length + 32 per entry, §3.2.1) never exceeds its capacity (§3.2.2); inserting
 * evicts from the oldest end, lowering the capacity evicts at once (§3.2.3).
 *
 * Shared by the decoder and the encoder. The table does not decide what may be evicted: the
 * encoder asks {@link QpackDynamicTable.evictionsNeeded} before inserting and refuses when an
 * entry that would go still has unacknowledged references (§2.1.1), and uses
 * {@link QpackDynamicTable.drainingIndex} to stop referencing entries close to eviction
 * (§2.1.1.1).
 */

/** RFC 9204 §3.2.1: the overhead counted for each entry. */
export const QPACK_ENTRY_OVERHEAD = 32;

/** The size of a field as RFC 9204 §3.2.1 counts it (names and values as latin1 octets). */
export function qpackEntrySize(name: string, value: string): number {
  return name.length + value.length + QPACK_ENTRY_OVERHEAD;
}

/** A QPACK dynamic table. */
export class QpackDynamicTable {
  /** Entries from the oldest still present (at `head`) to the newest. */
  private names: string[] = [];
  private values: string[] = [];
  private sizes: number[] = [];
  private head = 0;
  private bytes = 0;
  private cap: number;
  private inserted = 0;

  /** A table of `capacity` octets (RFC 9204 §3.2.3: 0 until the encoder sets it). */
  constructor(capacity = 0) {
    this.cap = capacity;
  }

  /** RFC 9204 §3.2.4: entries ever inserted; the absolute index the next entry gets. */
  get insertCount(): number {
    return this.inserted;
  }

  /** Absolute index of the oldest entry still present (= entries evicted so far). */
  get droppedCount(): number {
    return this.inserted - (this.names.length - this.head);
  }

  /** Entries in the table. */
  get length(): number {
    return this.names.length - this.head;
  }

  /** Current size in octets (RFC 9204 §3.2.1). */
  get size(): number {
    return this.bytes;
  }

  /** Capacity in octets (RFC 9204 §3.2.2). */
  get capacity(): number {
    return this.cap;
  }

  /** True when the entry with absolute index `abs` is in the table. */
  has(abs: number): boolean {
    return abs >= this.droppedCount && abs < this.inserted;
  }

  /** Name of the entry at absolute index `abs` (the caller checks {@link has}). */
  nameAt(abs: number): string {
    return this.names[this.head + abs - this.droppedCount]!;
  }

  /** Value of the entry at absolute index `abs` (the caller checks {@link has}). */
  valueAt(abs: number): string {
    return this.values[this.head + abs - this.droppedCount]!;
  }

  /** Size of the entry at absolute index `abs` (the caller checks {@link has}). */
  sizeAt(abs: number): number {
    return this.sizes[this.head + abs - this.droppedCount]!;
  }

  /**
   * How many of the oldest entries must be evicted for an entry of `size` octets to fit
   * (RFC 9204 §3.2.2), or -1 when it cannot fit even in an empty table.
   */
  evictionsNeeded(size: number): number {
    if (size > this.cap) return -1;
    let free = this.cap - this.bytes;
    let n = 0;
    while (free < size) free += this.sizes[this.head + n++]!;
    return n;
  }

  /**
   * How many of the oldest entries must be evicted for the table to fit `capacity` octets
   * (RFC 9204 §3.2.3).
   */
  evictionsForCapacity(capacity: number): number {
    let bytes = this.bytes;
    let n = 0;
    while (bytes > capacity) bytes -= this.sizes[this.head + n++]!;
    return n;
  }

  /** RFC 9204 §3.2.3: a new capacity; the oldest entries are evicted until the table fits. */
  setCapacity(capacity: number): void {
    this.cap = capacity;
    while (this.bytes > capacity) this.evictOldest();
  }

  /**
   * RFC 9204 §3.2.2: adds a field as the newest entry, evicting the oldest as needed. The
   * caller checks that it fits (see {@link evictionsNeeded}); name and value are taken before
   * eviction, so they may come from an entry this insertion evicts (§4.3.2).
   */
  insert(name: string, value: string): void {
    const size = name.length + value.length + QPACK_ENTRY_OVERHEAD;
    while (this.bytes + size > this.cap && this.length > 0) this.evictOldest();
    this.names.push(name);
    this.values.push(value);
    this.sizes.push(size);
    this.bytes += size;
    this.inserted++;
  }

  /**
   * RFC 9204 §2.1.1.1: the draining index that keeps `reserve` octets of the table for new
   * entries: the smallest absolute index from which the entries, up to the newest, use at most
   * `capacity - reserve` octets. Entries below it are about to be evicted and should not be
   * referenced again.
   */
  drainingIndex(reserve: number): number {
    const budget = this.cap - reserve;
    let used = 0;
    let i = this.names.length - 1;
    while (i >= this.head && used + this.sizes[i]! <= budget) used += this.sizes[i--]!;
    return this.inserted - (this.names.length - 1 - i);
  }

  /** Absolute index of the newest entry with `name` and `value` at or above `from`, or -1. */
  findField(name: string, value: string, from: number): number {
    for (let i = this.names.length - 1, abs = this.inserted - 1; i >= this.head && abs >= from; i--, abs--) {
      if (this.names[i] === name && this.values[i] === value) return abs;
    }
    return -1;
  }

  /** Absolute index of the newest entry with `name` at or above `from`, or -1. */
  findName(name: string, from: number): number {
    for (let i = this.names.length - 1, abs = this.inserted - 1; i >= this.head && abs >= from; i--, abs--) {
      if (this.names[i] === name) return abs;
    }
    return -1;
  }

  private evictOldest(): void {
    this.bytes -= this.sizes[this.head]!;
    this.names[this.head] = '';
    this.values[this.head] = '';
    this.head++;
    // Compact once the evicted prefix dominates, so memory stays proportional to the table.
    if (this.head >= 64 && this.head * 2 >= this.names.length) {
      this.names = this.names.slice(this.head);
      this.values = this.values.slice(this.head);
      this.sizes = this.sizes.slice(this.head);
      this.head = 0;
    }
  }
}
