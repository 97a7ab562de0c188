/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of fields, newest first, whose size
 * (the sum of name length + value length + 32 per entry, §4.1) never exceeds its maximum;
 * adding evicts from the oldest end (§4.4), lowering the maximum evicts at once (§4.3).
 * Stored in a ring buffer so that adding and evicting do not move entries. Shared by the
 * decoder and the encoder; `insertCount` lets the encoder map fields to current indices.
 */

/** RFC 7541 §4.1: the overhead counted for each entry. */
export const HPACK_ENTRY_OVERHEAD = 32;

/** The size of a field as RFC 7541 §4.1 counts it (names and values as latin1 octets). */
export function hpackEntrySize(name: string, value: string): number {
  return name.length + value.length + HPACK_ENTRY_OVERHEAD;
}

/** An HPACK dynamic table. */
export class HpackDynamicTable {
  private names: string[];
  private values: string[];
  private sizes: Int32Array;
  /** Ring position of the oldest entry. */
  private head = 0;
  private count = 0;
  private bytes = 0;
  private max: number;
  /** Entries ever added: the entry added as number k is at index `insertCount - k + 1`. */
  insertCount = 0;

  constructor(maxSize = 4096) {
    this.max = maxSize;
    const capacity = 16;
    this.names = new Array<string>(capacity);
    this.values = new Array<string>(capacity);
    this.sizes = new Int32Array(capacity);
  }

  /** Entries in the table. */
  get length(): number {
    return this.count;
  }

  /** Current size in octets (RFC 7541 §4.1). */
  get size(): number {
    return this.bytes;
  }

  /** Maximum size in octets. */
  get maxSize(): number {
    return this.max;
  }

  /** RFC 7541 §4.3: a new maximum; entries are evicted until the table fits. */
  setMaxSize(maxSize: number): void {
    this.max = maxSize;
    while (this.bytes > this.max) this.evictOldest();
  }

  /**
   * RFC 7541 §4.4: adds a field as the newest entry, evicting as needed. A field larger than
   * the maximum empties the table and is not added.
   */
  add(name: string, value: string): void {
    const size = name.length + value.length + HPACK_ENTRY_OVERHEAD;
    while (this.count > 0 && this.bytes + size > this.max) this.evictOldest();
    if (size > this.max) return;
    this.insertCount++;
    if (this.count === this.names.length) this.grow();
    const slot = (this.head + this.count) % this.names.length;
    this.names[slot] = name;
    this.values[slot] = value;
    this.sizes[slot] = size;
    this.count++;
    this.bytes += size;
  }

  /** Name of the entry at `index` (1 = newest). Caller checks `1 <= index <= length`. */
  nameAt(index: number): string {
    return this.names[this.slotOf(index)]!;
  }

  /** Value of the entry at `index` (1 = newest). */
  valueAt(index: number): string {
    return this.values[this.slotOf(index)]!;
  }

  private slotOf(index: number): number {
    return (this.head + this.count - index) % this.names.length;
  }

  private evictOldest(): void {
    const slot = this.head;
    this.bytes -= this.sizes[slot]!;
    this.names[slot] = '';
    this.values[slot] = '';
    this.head = (slot + 1) % this.names.length;
    this.count--;
  }

  private grow(): void {
    const n = this.names.length;
    const names = new Array<string>(n * 2);
    const values = new Array<string>(n * 2);
    const sizes = new Int32Array(n * 2);
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head + i) % n;
      names[i] = this.names[slot]!;
      values[i] = this.values[slot]!;
      sizes[i] = this.sizes[slot]!;
    }
    this.names = names;
    this.values = values;
    this.sizes = sizes;
    this.head = 0;
  }
}
