/**
 * TimerWheel: the one place where avx-http keeps time-outs (connection idle, request head, body,
 * keep-alive, handshake, ...). A hierarchical timing wheel (Varghese & Lauck, "Hashed and
 * Hierarchical Timing Wheels", 1987) of 4 levels x 64 slots, driven by exactly one Node timer.
 *
 * Why a wheel: a server holds one or more timeouts per connection and pushes most of them back or
 * cancels them long before they fire. `setTimeout` allocates a large `Timeout` object per call and
 * goes through Node's timer lists; here `schedule` allocates one small handle, and `cancel` and
 * `reschedule` are a few pointer updates on an intrusive doubly-linked list with no allocation.
 *
 * Resolution: time is counted in ticks of `tickMs` (default 10 ms). A timer fires on the first
 * tick boundary at or after its deadline, so never early and at most one tick late (plus event
 * loop latency). Timeouts here are 1 s .. minutes, so 10 ms (1 % of the shortest) is plenty;
 * a coarser tick would save little because the Node timer is only armed for the next slot that
 * holds something, not for every tick.
 *
 * Levels: a slot of level L covers 64^L ticks, so with 10 ms ticks the levels span 0.64 s, 41 s,
 * 43.7 min and 46.6 h. A timer enters the lowest level whose span covers its delay and is moved
 * one level down ("cascaded") when the slot it sits in comes up, so each timer is touched at
 * most once per level. A delay beyond the top level's span is clamped into the top level and
 * cascaded again, as often as needed, until it is due.
 */
import { performance } from 'node:perf_hooks';
import { AvxError } from '../core/errors.js';

const SLOTS = 64;
const LEVELS = 4;
/** Ticks covered by one slot of each level: 64^level. */
const SLOT_SPAN = [1, 64, 4096, 262_144];
/** Longest delay, in ticks, that fits in the wheel without clamping: 64^4 - 1. */
const MAX_DELTA = 16_777_215;

/** Default tick length in milliseconds. */
export const DEFAULT_TICK_MS = 10;

/** A timer callback. It receives the `arg` given to `schedule`, so hot paths need no closure. */
export type TimerCallback<T> = (arg: T) => void;

/** Error codes of {@link TimerWheelError}. */
export type TimerWheelErrorCode =
  | 'AVX_TIMER_WHEEL_CLOSED'
  | 'AVX_TIMER_INVALID_DELAY'
  | 'AVX_TIMER_INVALID_TICK'
  | 'AVX_TIMER_FOREIGN_HANDLE';

/** A TimerWheel was misused: closed, given a bad delay or tick, or handed another wheel's handle. */
export class TimerWheelError extends AvxError {
  constructor(code: TimerWheelErrorCode, message: string) {
    super(code, message);
  }
}

/**
 * The host timer a wheel uses to wake itself up. The default arms an `unref()`'d `setTimeout`, so
 * a wheel never keeps the process alive. Tests inject a fake to drive the wheel by hand.
 */
export interface TimerWheelTimers {
  /** Arms a one-shot timer that calls `callback(wheel)` after `delayMs` milliseconds (>= 1). */
  set(callback: (wheel: TimerWheel) => void, delayMs: number, wheel: TimerWheel): unknown;
  /** Disarms a timer returned by `set` that has not fired yet. */
  clear(token: unknown): void;
}

/** Options of {@link TimerWheel}. */
export interface TimerWheelOptions {
  /**
   * Length of one tick in milliseconds: the wheel's resolution. Timers fire up to one tick late.
   * Default 10 (ms). Must be a positive finite number.
   */
  tickMs?: number;
  /**
   * Monotonic clock in milliseconds. Default `performance.now()`, which, unlike `Date.now()`, does
   * not jump when the system clock is set.
   */
  clock?: () => number;
  /** Host timer used to wake the wheel. Default: an `unref()`'d `setTimeout`. */
  timers?: TimerWheelTimers;
  /**
   * Called with the error when a callback throws; the wheel's state is unaffected and the other
   * due callbacks still run. Default: the error is re-thrown from `process.nextTick`, so it
   * reaches `uncaughtException` exactly like an error thrown by a `setTimeout` callback would,
   * instead of being demoted to a warning that hides a bug.
   */
  onError?: (error: unknown, handle: TimerHandle) => void;
}

/**
 * A timer scheduled on a {@link TimerWheel}: also the node of the intrusive list it is queued in,
 * so scheduling allocates nothing else. A handle can be re-armed any number of times with
 * `refresh()` or `TimerWheel.reschedule`, before or after it has fired or been cancelled.
 */
export class TimerHandle {
  /** @internal */ _prev: TimerHandle;
  /** @internal */ _next: TimerHandle;
  /** @internal Tick at which the timer is due. */ _tick = 0;
  /** @internal Slot it is queued in, `level * 64 + index`; -1 when not pending. */ _slot = -1;
  /** @internal */ _delayMs: number;
  /** @internal */ readonly _wheel: TimerWheel;
  /** @internal */ readonly _callback: TimerCallback<unknown>;
  /** @internal */ readonly _arg: unknown;

  /** @internal Created by {@link TimerWheel.schedule}. */
  constructor(wheel: TimerWheel, callback: TimerCallback<unknown>, arg: unknown, delayMs: number) {
    this._prev = this;
    this._next = this;
    this._wheel = wheel;
    this._callback = callback;
    this._arg = arg;
    this._delayMs = delayMs;
  }

  /** Whether the timer is waiting to fire (false once it has fired or been cancelled). */
  get pending(): boolean {
    return this._slot >= 0;
  }

  /** The delay, in milliseconds, of the last `schedule`, `reschedule` or `refresh`. */
  get delayMs(): number {
    return this._delayMs;
  }

  /** Re-arms the timer to fire `delayMs` from now (same delay as last time). Allocates nothing. */
  refresh(): void {
    this._wheel.reschedule(this, this._delayMs);
  }

  /** Cancels the timer. Returns whether it was pending. */
  cancel(): boolean {
    return this._wheel.cancel(this);
  }
}

const NODE_TIMERS: TimerWheelTimers = {
  set(callback, delayMs, wheel) {
    const timeout = setTimeout(callback, delayMs, wheel);
    timeout.unref();
    return timeout;
  },
  clear(token) {
    clearTimeout(token as ReturnType<typeof setTimeout>);
  },
};

function performanceNow(): number {
  return performance.now();
}

function rethrow(error: unknown): never {
  throw error;
}

function rethrowOnNextTick(error: unknown): void {
  process.nextTick(rethrow, error);
}

/** The host timer callback: one module-level function, so arming the wheel creates no closure. */
function wakeWheel(wheel: TimerWheel): void {
  wheel._wake();
}

function noop(): void {}

/**
 * A hierarchical timing wheel: O(1) `schedule`, `cancel` and `reschedule`, one host timer.
 *
 * Guarantees: a callback never runs before its deadline by the wheel's clock, and runs at most
 * one tick after it while the event loop is responsive. Callbacks due on different ticks run in
 * deadline order; callbacks due on the same tick run in an unspecified order.
 *
 * The host timer is armed only for the next tick that has work (a due slot or a cascade), not for
 * every tick. When the last timer is cancelled the host timer is not cleared but left to lapse:
 * it is unref'd, fires at most once more, finds nothing and stays off, so an idle wheel costs
 * nothing, and schedule/cancel churn of a lone timer does not create a Node timer every time.
 */
export class TimerWheel {
  private readonly tickMs: number;
  private readonly clock: () => number;
  private readonly timers: TimerWheelTimers;
  private readonly onError: (error: unknown, handle: TimerHandle) => void;
  /** Clock reading at construction; tick numbers count from it, so they start at 0. */
  private readonly origin: number;
  /** Sentinels of the circular slot lists, `level * 64 + index`. */
  private readonly slots: TimerHandle[] = [];
  private readonly levelCounts: number[] = [0, 0, 0, 0];
  /** Sentinel of the list of timers being fired in the current tick. */
  private readonly firing: TimerHandle;
  /** The next tick to process: every earlier tick has been. */
  private nextTick: number;
  private count = 0;
  private running = false;
  private isClosed = false;
  private hostTimer: unknown = undefined;
  /** Second result of `slotFor`: the tick at which the slot it returned comes up. */
  private wakeTick = 0;
  /** Tick the host timer is armed for; Infinity when it is not armed. */
  private armedTick = Number.POSITIVE_INFINITY;

  constructor(options: TimerWheelOptions = {}) {
    const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    if (!(tickMs > 0 && tickMs < Number.POSITIVE_INFINITY)) {
      throw new TimerWheelError(
        'AVX_TIMER_INVALID_TICK',
        `tickMs must be a positive finite number, got ${tickMs}`,
      );
    }
    this.tickMs = tickMs;
    this.clock = options.clock ?? performanceNow;
    this.timers = options.timers ?? NODE_TIMERS;
    this.onError = options.onError ?? rethrowOnNextTick;
    this.origin = this.clock();
    this.nextTick = 1;
    for (let i = 0; i < LEVELS * SLOTS; i++) this.slots.push(new TimerHandle(this, noop, undefined, 0));
    this.firing = new TimerHandle(this, noop, undefined, 0);
  }

  /** Number of pending timers. */
  get size(): number {
    return this.count;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** The current time by the wheel's clock, in milliseconds. */
  now(): number {
    return this.clock();
  }

  /**
   * Schedules `callback(arg)` to run `delayMs` milliseconds from now (negative delays count as 0).
   * Pass the state the callback needs as `arg` instead of capturing it in a closure.
   * Throws {@link TimerWheelError} when the wheel is closed or `delayMs` is NaN or infinite.
   */
  schedule<T>(delayMs: number, callback: TimerCallback<T>, arg: T): TimerHandle;
  schedule(delayMs: number, callback: () => void): TimerHandle;
  schedule<T>(delayMs: number, callback: TimerCallback<T>, arg?: T): TimerHandle {
    const handle = new TimerHandle(this, callback as TimerCallback<unknown>, arg, delayMs);
    this.start(handle, delayMs);
    return handle;
  }

  /**
   * Re-arms `handle` to fire `delayMs` from now (default: its last delay), whether it is pending,
   * has fired or has been cancelled. O(1), allocates nothing: push a keep-alive timeout back on
   * every request with this. When the new deadline falls in the slot the timer already occupies
   * (common: upper-level slots span 640 ms and more), only its due tick is updated.
   * `performanceNowReading`, when given, is a `performance.now()` the caller read just now; the
   * wheel uses it instead of reading its clock again when its clock is `performance.now()`.
   */
  reschedule(handle: TimerHandle, delayMs: number = handle._delayMs, performanceNowReading?: number): void {
    if (handle._wheel !== this) {
      throw new TimerWheelError('AVX_TIMER_FOREIGN_HANDLE', 'the handle belongs to another TimerWheel');
    }
    // A caller that just read performance.now() (a server connection telling its finish
    // observers when a response ended) saves the wheel a second reading when that is its clock.
    const now =
      performanceNowReading !== undefined && this.clock === performanceNow
        ? performanceNowReading
        : this.clock();
    this.start(handle, delayMs, now);
  }

  /** Cancels `handle`, also from inside another timer's callback. Returns whether it was pending. */
  cancel(handle: TimerHandle): boolean {
    if (handle._slot < 0 || handle._wheel !== this) return false;
    this.unlink(handle);
    return true;
  }

  /**
   * Runs every callback due by time `now` (default: the clock), cascading timers down the levels
   * on the way, then re-arms the host timer for the next tick with work. The host timer calls
   * this; tests with an injected clock call it directly. Does nothing when called from inside a
   * callback or after `close()`.
   * @returns the number of callbacks run.
   */
  runDue(now: number = this.clock()): number {
    if (this.hostTimer !== undefined && now >= this.origin + this.armedTick * this.tickMs) {
      // Driven by hand past the armed tick: that host timer has no purpose left.
      this.timers.clear(this.hostTimer);
      this.hostTimer = undefined;
      this.armedTick = Number.POSITIVE_INFINITY;
    }
    if (this.running || this.isClosed) return 0;
    const target = Math.floor((now - this.origin) / this.tickMs);
    const counts = this.levelCounts;
    let fired = 0;
    this.running = true;
    try {
      while (this.count > 0 && this.nextTick <= target) {
        const tick = this.nextTick;
        if (counts[0] === 0) {
          // Nothing can happen before the next boundary of the lowest non-empty level: skip to it.
          const span = counts[1] > 0 ? SLOT_SPAN[1] : counts[2] > 0 ? SLOT_SPAN[2] : SLOT_SPAN[3];
          const rest = tick % span;
          if (rest !== 0) {
            const boundary = tick - rest + span;
            this.nextTick = boundary <= target ? boundary : target + 1;
            continue;
          }
        }
        if (tick % SLOTS === 0) this.cascadeAt(tick);
        this.nextTick = tick + 1;
        fired += this.fireSlot(tick % SLOTS);
      }
    } finally {
      this.running = false;
    }
    if (this.count > 0 && !this.isClosed) this.arm(this.nextWakeTick());
    return fired;
  }

  /** @internal The host timer fired: it is spent, whether or not its tick has come (it may run early). */
  _wake(): void {
    this.hostTimer = undefined;
    this.armedTick = Number.POSITIVE_INFINITY;
    this.runDue();
  }

  /** Cancels every pending timer without running it, disarms the host timer, and rejects any later `schedule`. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (let i = 0; i < this.slots.length; i++) this.dropList(this.slots[i]);
    this.dropList(this.firing);
    this.count = 0;
    for (let level = 0; level < LEVELS; level++) this.levelCounts[level] = 0;
    if (this.hostTimer !== undefined) {
      this.timers.clear(this.hostTimer);
      this.hostTimer = undefined;
      this.armedTick = Number.POSITIVE_INFINITY;
    }
  }

  private start(handle: TimerHandle, delayMs: number, now: number = this.clock()): void {
    if (this.isClosed) throw new TimerWheelError('AVX_TIMER_WHEEL_CLOSED', 'the TimerWheel is closed');
    // `< Infinity` is false for NaN and Infinity.
    if (typeof delayMs !== 'number' || !(delayMs < Number.POSITIVE_INFINITY)) {
      throw new TimerWheelError(
        'AVX_TIMER_INVALID_DELAY',
        `timer delay must be a finite number, got ${delayMs}`,
      );
    }
    if (delayMs < 0) delayMs = 0;
    handle._delayMs = delayMs;
    const elapsed = now - this.origin;
    if (this.count === 0) {
      // Empty wheel: no slot constrains `nextTick`, so let it catch up with the clock. This keeps
      // new timers in the lowest level that fits after an idle period.
      const current = Math.floor(elapsed / this.tickMs) + 1;
      if (current > this.nextTick) this.nextTick = current;
    }
    handle._tick = Math.ceil((elapsed + delayMs) / this.tickMs);
    const slot = this.slotFor(handle);
    // Pending in that very slot already: nothing to move. Level 0 is excluded because a handle
    // of the slot being fired sits on the `firing` list while it still names its slot.
    if (slot === handle._slot && slot >= SLOTS) return;
    if (handle._slot >= 0) this.unlink(handle);
    this.link(handle, slot);
    this.count++;
    if (!this.running && this.wakeTick < this.armedTick) this.arm(this.wakeTick);
  }

  /**
   * The slot, `level * 64 + index`, for `handle._tick` (first raised to `nextTick` if it has
   * passed). Also sets `wakeTick` to the tick at which the wheel must look at that slot: the due
   * tick at level 0, the start of the slot's span above.
   */
  private slotFor(handle: TimerHandle): number {
    const nextTick = this.nextTick;
    let tick = handle._tick;
    if (tick < nextTick) {
      tick = nextTick;
      handle._tick = tick;
    }
    const delta = tick - nextTick;
    if (delta < SLOT_SPAN[1]) {
      this.wakeTick = tick;
      return tick % SLOTS;
    }
    let level: number;
    if (delta < SLOT_SPAN[2]) {
      level = 1;
    } else if (delta < SLOT_SPAN[3]) {
      level = 2;
    } else {
      level = 3;
      // Beyond the top level's span: park it in the furthest top slot; it is cascaded again.
      if (delta > MAX_DELTA) tick = nextTick + MAX_DELTA;
    }
    const span = SLOT_SPAN[level];
    const block = Math.floor(tick / span);
    this.wakeTick = block * span;
    return level * SLOTS + (block % SLOTS);
  }

  /** Appends `handle` to the list of `slot` (FIFO within a slot). Does not count it in `count`. */
  private link(handle: TimerHandle, slot: number): void {
    const sentinel = this.slots[slot];
    const tail = sentinel._prev;
    handle._prev = tail;
    handle._next = sentinel;
    tail._next = handle;
    sentinel._prev = handle;
    handle._slot = slot;
    this.levelCounts[slot >> 6]++;
  }

  private unlink(handle: TimerHandle): void {
    const prev = handle._prev;
    const next = handle._next;
    prev._next = next;
    next._prev = prev;
    handle._prev = handle;
    handle._next = handle;
    this.levelCounts[handle._slot >> 6]--;
    handle._slot = -1;
    this.count--;
  }

  /** At a multiple of 64 ticks: moves the timers of each level's slot that starts now one level down. */
  private cascadeAt(tick: number): void {
    let block = tick / SLOTS;
    for (let level = 1; level < LEVELS; level++) {
      const index = block % SLOTS;
      if (this.levelCounts[level] > 0) this.cascadeSlot(level, index);
      if (index !== 0) return;
      block /= SLOTS;
    }
  }

  private cascadeSlot(level: number, index: number): void {
    const sentinel = this.slots[level * SLOTS + index];
    let handle = sentinel._next;
    if (handle === sentinel) return;
    sentinel._next = sentinel;
    sentinel._prev = sentinel;
    const counts = this.levelCounts;
    while (handle !== sentinel) {
      const next = handle._next;
      counts[level]--;
      this.link(handle, this.slotFor(handle));
      handle = next;
    }
  }

  /** Runs the callbacks of level-0 slot `index`, which are all due. */
  private fireSlot(index: number): number {
    const sentinel = this.slots[index];
    if (sentinel._next === sentinel) return 0;
    // Move the slot's list onto `firing`: callbacks may schedule into this very slot (64 ticks
    // ahead) or cancel timers that are about to fire, which then unlink themselves from `firing`.
    const firing = this.firing;
    firing._next = sentinel._next;
    firing._prev = sentinel._prev;
    firing._next._prev = firing;
    firing._prev._next = firing;
    sentinel._next = sentinel;
    sentinel._prev = sentinel;
    let fired = 0;
    while (firing._next !== firing) {
      const handle = firing._next;
      this.unlink(handle);
      fired++;
      try {
        handle._callback(handle._arg);
      } catch (error) {
        this.onError(error, handle);
      }
    }
    return fired;
  }

  /** The earliest tick at which some slot holding timers comes up. Requires `count > 0`. */
  private nextWakeTick(): number {
    const slots = this.slots;
    const counts = this.levelCounts;
    const nextTick = this.nextTick;
    let best = Number.POSITIVE_INFINITY;
    if (counts[0] > 0) {
      // Level-0 timers are due in [nextTick, nextTick + 64): scan the ring from nextTick.
      for (let i = 0; i < SLOTS; i++) {
        const sentinel = slots[(nextTick + i) % SLOTS];
        if (sentinel._next !== sentinel) {
          best = nextTick + i;
          break;
        }
      }
    }
    for (let level = 1; level < LEVELS; level++) {
      if (counts[level] === 0) continue;
      const span = SLOT_SPAN[level];
      // The first slot span that has not been cascaded yet starts at or after nextTick.
      const firstBlock = Math.ceil(nextTick / span);
      for (let i = 0; i < SLOTS; i++) {
        const block = firstBlock + i;
        if (block * span >= best) break;
        const sentinel = slots[level * SLOTS + (block % SLOTS)];
        if (sentinel._next !== sentinel) {
          best = block * span;
          break;
        }
      }
    }
    return best;
  }

  private arm(tick: number): void {
    if (tick >= this.armedTick) return;
    if (this.hostTimer !== undefined) this.timers.clear(this.hostTimer);
    const delayMs = Math.ceil(this.origin + tick * this.tickMs - this.clock());
    this.armedTick = tick;
    this.hostTimer = this.timers.set(wakeWheel, Math.max(delayMs, 1), this);
  }

  private dropList(sentinel: TimerHandle): void {
    let handle = sentinel._next;
    while (handle !== sentinel) {
      const next = handle._next;
      handle._prev = handle;
      handle._next = handle;
      handle._slot = -1;
      handle = next;
    }
    sentinel._next = sentinel;
    sentinel._prev = sentinel;
  }
}

let defaultWheel: TimerWheel | undefined;

/**
 * The process-wide wheel with default options, created on first use (and again if it was
 * closed). Every avx-http component uses it unless given its own.
 */
export function defaultTimerWheel(): TimerWheel {
  if (defaultWheel === undefined || defaultWheel.closed) defaultWheel = new TimerWheel();
  return defaultWheel;
}
