/**
 * The rate-limit middleware's default {@link RateLimitStore}: the sliding-window counters in a
 * Map, in this process only, bounded by `maxKeys` (oldest keys evicted first), with expired
 * windows swept on the TimerWheel. For limits shared by several processes, use
 * `RedisRateLimitStore` (redis-rate-limit-store.ts) instead.
 */
import { performance } from 'node:perf_hooks';
import { defaultTimerWheel, type TimerHandle, type TimerWheel } from '../../runtime/timer-wheel.js';
import { positiveInteger, type RateLimitCounters, type RateLimitStore } from './rate-limit-store.js';

/** Options of {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /** Keys held at most; when a new key comes in at the bound, the oldest key is dropped first. Default 10000. */
  maxKeys?: number;
  /** How often expired windows are swept out while the store holds keys, in ms. Default 60000. */
  sweepIntervalMs?: number;
  /** The wheel the sweep runs on. Default `defaultTimerWheel()`. */
  timerWheel?: TimerWheel;
  /** Monotonic clock in milliseconds. Default `performance.now()`; tests inject their own. */
  now?: () => number;
}

/** One key's counter. Also the entry of the store's Map, which keeps them oldest window first. */
interface KeyWindow {
  /** Clock reading at which the current window began. */
  start: number;
  count: number;
  previous: number;
  windowMs: number;
}

function performanceNow(): number {
  return performance.now();
}

function sweepStore(store: MemoryRateLimitStore): void {
  store.sweep();
  store._rearm();
}

/**
 * The default store: counters in a Map, in this process only. Memory is bounded: at most
 * `maxKeys` keys, and when a new key arrives at the bound the key whose window moved least
 * recently is dropped (counted in {@link evictions} unless its windows had expired anyway).
 * Expired keys (no hit for two windows) are also dropped by a sweep that runs every
 * `sweepIntervalMs` on the TimerWheel while the store holds keys; an empty store holds no timer.
 *
 * Per hit: one Map lookup and no allocation for a known key (the result object is reused);
 * a new key costs one small object, and a window moving on re-inserts the key at the Map's end
 * (once per window, so the Map stays ordered by window start and the oldest key is first).
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, KeyWindow>();
  private readonly maxKeys: number;
  private readonly sweepIntervalMs: number;
  private readonly wheel: TimerWheel | undefined;
  private readonly now: () => number;
  private readonly result: RateLimitCounters = { count: 0, previousCount: 0, elapsedMs: 0 };
  private timer: TimerHandle | undefined;
  private evicted = 0;

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.maxKeys = positiveInteger(options.maxKeys ?? 10_000, 'maxKeys');
    this.sweepIntervalMs = positiveInteger(options.sweepIntervalMs ?? 60_000, 'sweepIntervalMs');
    this.wheel = options.timerWheel;
    this.now = options.now ?? performanceNow;
  }

  /** Keys held now (<= `maxKeys`). */
  get size(): number {
    return this.windows.size;
  }

  /** Keys dropped at the `maxKeys` bound while their counters were still live, since construction. */
  get evictions(): number {
    return this.evicted;
  }

  increment(key: string, windowMs: number): RateLimitCounters {
    const now = this.now();
    let w = this.windows.get(key);
    if (w === undefined) {
      w = this.admit(key, now, windowMs);
    } else {
      w.windowMs = windowMs;
      const elapsed = now - w.start;
      if (elapsed >= windowMs) {
        if (elapsed >= 2 * windowMs) {
          w.previous = 0;
          w.start = now;
        } else {
          w.previous = w.count;
          w.start += windowMs;
        }
        w.count = 0;
        // Re-insert at the end: the Map stays (roughly) ordered by window start, oldest first.
        this.windows.delete(key);
        this.windows.set(key, w);
      }
    }
    w.count++;
    const result = this.result;
    result.count = w.count;
    result.previousCount = w.previous;
    // A clock that stepped back counts as the window's first instant.
    result.elapsedMs = now > w.start ? now - w.start : 0;
    return result;
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  /** Drops every key whose windows have both expired. Returns how many were dropped. */
  sweep(): number {
    const now = this.now();
    let dropped = 0;
    for (const [key, w] of this.windows) {
      if (now - w.start >= 2 * w.windowMs) {
        this.windows.delete(key);
        dropped++;
      }
    }
    return dropped;
  }

  /** Drops every key and stops the sweep timer. The store stays usable. */
  close(): void {
    this.timer?.cancel();
    this.windows.clear();
  }

  /** @internal Re-arms the sweep while keys remain. */
  _rearm(): void {
    if (this.windows.size > 0 && this.timer !== undefined && !this.timer.pending) this.timer.refresh();
  }

  private admit(key: string, now: number, windowMs: number): KeyWindow {
    const windows = this.windows;
    if (windows.size >= this.maxKeys) {
      for (const [oldKey, old] of windows) {
        if (windows.size < this.maxKeys) break;
        windows.delete(oldKey);
        if (now - old.start < 2 * old.windowMs) this.evicted++;
      }
    }
    const w: KeyWindow = { start: now, count: 0, previous: 0, windowMs };
    windows.set(key, w);
    if (this.timer === undefined) {
      this.timer = (this.wheel ?? defaultTimerWheel()).schedule(this.sweepIntervalMs, sweepStore, this);
    } else if (!this.timer.pending) {
      this.timer.refresh();
    }
    return w;
  }
}
