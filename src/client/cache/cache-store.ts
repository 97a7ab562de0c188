/**
 * Where the cache keeps its stored responses (RFC 9111 §2): a map from the primary cache key
 * (method and target URI, §2) to the responses stored under it, one per secondary key (§4.1,
 * `Vary`). Any store works, in memory or out of process: each method may answer directly or
 * with a promise. {@link MemoryCacheStore} is the default.
 */
import type { StoredResponse } from './stored-response.js';

/** A value, or a promise of it (stores may be synchronous or asynchronous). */
export type MaybePromise<T> = T | Promise<T>;

/** The storage behind the cache policy. */
export interface CacheStore {
  /** The responses stored under `key` (one per Vary variant), or undefined when there are none. */
  get(key: string): MaybePromise<readonly StoredResponse[] | undefined>;
  /** Replaces the responses stored under `key` (an empty list removes the key). */
  set(key: string, variants: readonly StoredResponse[]): MaybePromise<void>;
  /** Removes every response stored under `key` (RFC 9111 §4.4 invalidation). */
  delete(key: string): MaybePromise<void>;
}
