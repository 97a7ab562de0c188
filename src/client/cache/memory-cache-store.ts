/**
 * The default {@link CacheStore}: an in-memory map bounded by bytes, evicting the least
 * recently used key first. A JavaScript `Map` iterates in insertion order, so "used" means
 * deleted and re-inserted, and the first key is always the least recently used one.
 */
import type { CacheStore } from './cache-store.js';
import { type StoredResponse, storedSize } from './stored-response.js';

/** Options of {@link MemoryCacheStore}. */
export interface MemoryCacheStoreOptions {
  /** Most bytes kept (bodies plus header text plus a small per-entry overhead). Default 33554432 (32 MiB). */
  maxBytes?: number;
}

interface Slot {
  variants: readonly StoredResponse[];
  size: number;
}

/** An in-memory, byte-bounded LRU store. */
export class MemoryCacheStore implements CacheStore {
  /** The byte budget. */
  readonly maxBytes: number;
  readonly #slots = new Map<string, Slot>();
  #bytes = 0;

  constructor(options: MemoryCacheStoreOptions = {}) {
    const maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a number >= 0, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Bytes currently held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Keys currently held. */
  get size(): number {
    return this.#slots.size;
  }

  get(key: string): readonly StoredResponse[] | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    this.#slots.delete(key);
    this.#slots.set(key, slot);
    return slot.variants;
  }

  set(key: string, variants: readonly StoredResponse[]): void {
    this.delete(key);
    if (variants.length === 0) return;
    let size = key.length;
    for (const v of variants) size += storedSize(v);
    if (size > this.maxBytes) return;
    this.#slots.set(key, { variants, size });
    this.#bytes += size;
    for (const [oldest, slot] of this.#slots) {
      if (this.#bytes <= this.maxBytes) break;
      this.#slots.delete(oldest);
      this.#bytes -= slot.size;
    }
  }

  delete(key: string): void {
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    this.#bytes -= slot.size;
  }

  /** Drops everything. */
  clear(): void {
    this.#slots.clear();
    this.#bytes = 0;
  }
}
