/**
 * Tests of TimerWheel, driven by a fake clock and a fake host timer that fires exactly when the
 * wheel asked it to, so hours of wheel time pass in milliseconds and the single-host-timer
 * contract is checked on every call. One test uses real time to show the real host timer fires.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  defaultTimerWheel,
  type TimerHandle,
  TimerWheel,
  TimerWheelError,
  type TimerWheelOptions,
  type TimerWheelTimers,
} from '../../src/runtime/timer-wheel.js';

const TICK = 10;
const SECOND = 1000;
const HOUR = 3_600_000;

interface ArmedTimer {
  callback: (wheel: TimerWheel) => void;
  wheel: TimerWheel;
  at: number;
  token: object;
}

/** A fake clock plus host timer. It asserts that at most one host timer is armed at a time. */
class FakeHost implements TimerWheelTimers {
  now = 0;
  /** Number of host timers armed so far. */
  sets = 0;
  /** Number of host timer callbacks run so far. */
  wakes = 0;
  private armed: ArmedTimer | undefined;

  readonly clock = (): number => this.now;

  set(callback: (wheel: TimerWheel) => void, delayMs: number, wheel: TimerWheel): unknown {
    assert.equal(this.armed, undefined, 'a second host timer was armed while one is pending');
    assert.ok(delayMs >= 1 && Number.isFinite(delayMs), `bad host delay ${delayMs}`);
    this.sets++;
    const token = {};
    this.armed = { callback, wheel, at: this.now + delayMs, token };
    return token;
  }

  clear(token: unknown): void {
    assert.ok(this.armed !== undefined && this.armed.token === token, 'cleared a timer that is not armed');
    this.armed = undefined;
  }

  get isArmed(): boolean {
    return this.armed !== undefined;
  }

  /** Moves the clock to `time`, running the host timer each time it comes due on the way. */
  advanceTo(time: number): void {
    while (this.armed !== undefined && this.armed.at <= time) {
      const due = this.armed;
      this.armed = undefined;
      if (due.at > this.now) this.now = due.at;
      this.wakes++;
      due.callback(due.wheel);
    }
    this.now = time;
  }

  advance(ms: number): void {
    this.advanceTo(this.now + ms);
  }
}

function fakeWheel(options: TimerWheelOptions = {}): { host: FakeHost; wheel: TimerWheel } {
  const host = new FakeHost();
  const wheel = new TimerWheel({ clock: host.clock, timers: host, ...options });
  return { host, wheel };
}

function pushTo(list: unknown[]): (value: unknown) => void {
  return (value) => list.push(value);
}

test('a timer fires with its arg, once, no earlier than its deadline and within a tick', () => {
  const { host, wheel } = fakeWheel();
  const fired: unknown[] = [];
  const handle = wheel.schedule(1000, pushTo(fired), 'conn-1');
  assert.equal(wheel.size, 1);
  assert.equal(handle.pending, true);
  assert.equal(handle.delayMs, 1000);
  host.advanceTo(999);
  assert.deepEqual(fired, []);
  host.advanceTo(1000 + TICK);
  assert.deepEqual(fired, ['conn-1']);
  assert.equal(handle.pending, false);
  assert.equal(wheel.size, 0);
  host.advance(HOUR);
  assert.deepEqual(fired, ['conn-1']);
});

test('schedule without an arg calls the callback with no argument', () => {
  const { host, wheel } = fakeWheel();
  let calls = 0;
  wheel.schedule(5, () => {
    calls++;
  });
  host.advance(100);
  assert.equal(calls, 1);
});

test('random delays never fire early nor more than a tick late (host-driven and stepped)', () => {
  for (const mode of ['host', 'stepped'] as const) {
    const { host, wheel } = fakeWheel();
    // Host-driven: the wheel wakes itself through the host timer. Stepped: the test calls
    // runDue every millisecond and never fires the host timer.
    const moveTo = (time: number) => {
      if (mode === 'host') return host.advanceTo(time);
      while (host.now < time) {
        host.now++;
        wheel.runDue();
      }
    };
    host.now = 3; // start off a tick boundary
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const deadlines: number[] = [];
    const firedAt: number[] = [];
    const record = (i: number) => {
      firedAt[i] = host.now;
    };
    const horizon = mode === 'host' ? 5 * 60 * SECOND : 6 * SECOND;
    for (let i = 0; i < 400; i++) {
      moveTo(host.now + random(7));
      const delay = random(horizon);
      deadlines[i] = host.now + delay;
      wheel.schedule(delay, record, i);
    }
    moveTo(host.now + horizon + SECOND);
    for (let i = 0; i < deadlines.length; i++) {
      assert.ok(firedAt[i] !== undefined, `${mode}: timer ${i} never fired`);
      assert.ok(
        firedAt[i] >= deadlines[i],
        `${mode}: timer ${i} fired early: ${firedAt[i]} < ${deadlines[i]}`,
      );
      assert.ok(
        firedAt[i] <= deadlines[i] + TICK,
        `${mode}: timer ${i} late: ${firedAt[i]} > ${deadlines[i]}+tick`,
      );
    }
    assert.equal(wheel.size, 0);
  }
});

test('timers due on different ticks fire in deadline order, whatever the scheduling order', () => {
  const { host, wheel } = fakeWheel();
  const order: unknown[] = [];
  const delays = [5000, 20, 640, 650, 70_000, 1, 4096 * TICK, 629, 41_000, 300_000, 2 * HOUR];
  for (const delay of delays) wheel.schedule(delay, pushTo(order), delay);
  host.advance(3 * HOUR);
  assert.deepEqual(
    order,
    [...delays].sort((a, b) => a - b),
  );
});

test('cancel before the deadline prevents the callback', () => {
  const { host, wheel } = fakeWheel();
  const fired: unknown[] = [];
  const a = wheel.schedule(100, pushTo(fired), 'a');
  const b = wheel.schedule(100, pushTo(fired), 'b');
  const far = wheel.schedule(HOUR, pushTo(fired), 'far');
  assert.equal(wheel.cancel(a), true);
  assert.equal(a.pending, false);
  assert.equal(wheel.cancel(a), false, 'a second cancel is a no-op');
  assert.equal(far.cancel(), true);
  assert.equal(wheel.size, 1);
  host.advance(2 * HOUR);
  assert.deepEqual(fired, ['b']);
  assert.equal(wheel.cancel(b), false, 'cancelling a fired timer is a no-op');
  assert.equal(wheel.size, 0);
});

test('a callback can cancel a timer due on the same tick or later', () => {
  const { host, wheel } = fakeWheel();
  const fired: string[] = [];
  const handles: Record<string, TimerHandle> = {};
  const cancelPeer = (name: string) => {
    fired.push(name);
    wheel.cancel(handles[name === 'x' ? 'y' : 'x']);
    handles.later.cancel();
  };
  handles.x = wheel.schedule(50, cancelPeer, 'x');
  handles.y = wheel.schedule(50, cancelPeer, 'y');
  handles.later = wheel.schedule(500, (name: string) => fired.push(name), 'later');
  host.advance(SECOND);
  assert.equal(fired.length, 1, `exactly one of two mutually cancelling timers runs, got ${fired}`);
  assert.equal(wheel.size, 0);
});

test('reschedule and refresh push a pending timer back without firing it at the old deadline', () => {
  const { host, wheel } = fakeWheel();
  const firedAt: number[] = [];
  const record = () => {
    firedAt.push(host.now);
  };
  const handle = wheel.schedule(1000, record);
  host.advanceTo(900);
  handle.refresh(); // due at 1900 now
  host.advanceTo(1800);
  wheel.reschedule(handle, 5000); // due at 6800
  assert.equal(handle.delayMs, 5000);
  host.advanceTo(6799);
  assert.deepEqual(firedAt, []);
  assert.equal(wheel.size, 1);
  host.advanceTo(7000);
  assert.equal(firedAt.length, 1);
  assert.ok(firedAt[0] >= 6800 && firedAt[0] <= 6800 + TICK);
});

test('a keep-alive timer pushed back on every request fires only after the last push', () => {
  const { host, wheel } = fakeWheel();
  const firedAt: number[] = [];
  const handle = wheel.schedule(30 * SECOND, () => {
    firedAt.push(host.now);
  });
  // Most of these land in the upper-level slot the timer already occupies.
  for (let i = 0; i < 500; i++) {
    host.advance(37);
    handle.refresh();
  }
  const lastPush = host.now;
  host.advance(29 * SECOND);
  wheel.reschedule(handle, 2 * SECOND); // bring it forward, within the same 41 s level
  const deadline = host.now + 2 * SECOND;
  host.advance(HOUR);
  assert.equal(firedAt.length, 1);
  assert.ok(lastPush + 29 * SECOND < deadline);
  assert.ok(
    firedAt[0] >= deadline && firedAt[0] <= deadline + TICK,
    `fired at ${firedAt[0]}, due ${deadline}`,
  );
});

test('a callback can push back a peer due on the same tick, even by exactly 64 ticks', () => {
  const { host, wheel } = fakeWheel();
  const firedAt = new Map<string, number>();
  const handles: TimerHandle[] = [];
  const record = (name: string) => {
    firedAt.set(name, host.now);
    if (name === 'first') wheel.reschedule(handles[1], 64 * TICK);
  };
  handles.push(wheel.schedule(100, record, 'first'));
  handles.push(wheel.schedule(100, record, 'second'));
  host.advance(5 * SECOND);
  assert.equal(firedAt.get('first'), 100);
  assert.equal(firedAt.get('second'), 100 + 64 * TICK);
});

test('reschedule can bring a timer forward', () => {
  const { host, wheel } = fakeWheel();
  const firedAt: number[] = [];
  const handle = wheel.schedule(HOUR, () => {
    firedAt.push(host.now);
  });
  host.advanceTo(1000);
  wheel.reschedule(handle, 50);
  host.advanceTo(2000);
  assert.equal(firedAt.length, 1);
  assert.ok(firedAt[0] >= 1050 && firedAt[0] <= 1050 + TICK);
});

test('a fired or cancelled handle can be re-armed, also from its own callback', () => {
  const { host, wheel } = fakeWheel();
  let fires = 0;
  const handle: TimerHandle = wheel.schedule(100, () => {
    fires++;
    if (fires < 3) handle.refresh();
  });
  host.advance(10 * SECOND);
  assert.equal(fires, 3);
  assert.equal(handle.pending, false);
  handle.refresh();
  assert.equal(handle.pending, true);
  handle.cancel();
  wheel.reschedule(handle, 20);
  host.advance(SECOND);
  assert.equal(fires, 4);
});

test('delays of hours cascade through all levels and fire on time, beyond the top span too', () => {
  const delays = [HOUR, 3 * HOUR + 17, 30 * HOUR, 47 * HOUR, 100 * HOUR + 5, 400 * HOUR];
  const { host, wheel } = fakeWheel();
  host.now = 12_345;
  const firedAt = new Map<number, number>();
  for (const delay of delays) {
    wheel.schedule(delay, (d: number) => firedAt.set(d, host.now), delay);
  }
  const start = host.now;
  host.advanceTo(start + 401 * HOUR);
  for (const delay of delays) {
    const at = firedAt.get(delay);
    assert.ok(at !== undefined, `${delay} ms timer never fired`);
    assert.ok(at >= start + delay, `${delay} ms timer fired early`);
    assert.ok(at <= start + delay + TICK, `${delay} ms timer fired late by ${at - start - delay} ms`);
  }
  // The host timer is armed per occupied slot and cascade, not per tick: 400 h is 144M ticks.
  assert.ok(host.wakes < 2000, `too many host wake-ups: ${host.wakes}`);
});

test('a lone timer wakes the host once per level it cascades through, not once per tick', () => {
  let seed = 99;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let i = 0; i < 300; i++) {
    const { host, wheel } = fakeWheel();
    host.advance(random(10 * SECOND));
    const delay = random(40 * HOUR);
    const deadline = host.now + delay;
    let firedAt = -1;
    wheel.schedule(delay, () => {
      firedAt = host.now;
    });
    const wakesBefore = host.wakes;
    host.advance(41 * HOUR);
    assert.ok(firedAt >= deadline && firedAt <= deadline + TICK, `delay ${delay}: fired at ${firedAt}`);
    assert.ok(host.wakes - wakesBefore <= 4, `delay ${delay}: ${host.wakes - wakesBefore} wake-ups`);
  }
});

test('an idle stretch between timers does not leave the wheel behind', () => {
  const { host, wheel } = fakeWheel();
  const firedAt: number[] = [];
  const record = () => {
    firedAt.push(host.now);
  };
  wheel.schedule(100, record);
  host.advance(50 * HOUR);
  const wakes = host.wakes;
  wheel.schedule(100, record);
  const start = host.now;
  host.advance(SECOND);
  assert.equal(firedAt.length, 2);
  assert.ok(firedAt[1] >= start + 100 && firedAt[1] <= start + 100 + TICK);
  assert.equal(host.wakes - wakes, 1, 'a short timer after an idle stretch needs a single wake-up');
});

test('a timer almost a whole level span ahead does not make the wheel wake up early', () => {
  const { host, wheel } = fakeWheel();
  host.now = 105;
  const firedAt: number[] = [];
  const record = () => {
    firedAt.push(host.now);
  };
  // 4090 ticks ahead: level 1, in the slot of the 640 ms span that is already under way.
  wheel.schedule(4090 * TICK, record);
  wheel.schedule(100, record);
  host.advance(4100 * TICK);
  assert.equal(firedAt.length, 2);
  assert.ok(firedAt[1] >= 105 + 4090 * TICK && firedAt[1] <= 105 + 4091 * TICK);
  // One wake for the short timer, one for the cascade to level 0, one to fire.
  assert.ok(host.wakes <= 3, `${host.wakes} wake-ups`);
});

test('100k timers with mixed delays all fire, in tick order, none early', () => {
  const { host, wheel } = fakeWheel();
  const count = 100_000;
  const deadlines = new Float64Array(count);
  let lastFiredAt = 0;
  let fired = 0;
  const check = (i: number) => {
    assert.ok(host.now >= deadlines[i] && host.now <= deadlines[i] + TICK, `timer ${i}`);
    assert.ok(host.now >= lastFiredAt);
    lastFiredAt = host.now;
    fired++;
  };
  for (let i = 0; i < count; i++) {
    const delay = (i * 7919) % (10 * 60 * SECOND);
    deadlines[i] = delay;
    wheel.schedule(delay, check, i);
  }
  assert.equal(wheel.size, count);
  host.advance(11 * 60 * SECOND);
  assert.equal(fired, count);
  assert.equal(wheel.size, 0);
});

test('callbacks scheduling new timers never run them in the same tick or early', () => {
  const { host, wheel } = fakeWheel();
  const log: string[] = [];
  const firedAt = new Map<string, number>();
  const child = (name: string) => {
    log.push(name);
    firedAt.set(name, host.now);
  };
  wheel.schedule(100, () => {
    log.push('parent');
    wheel.schedule(0, child, 'zero');
    // 64 ticks ahead maps to the slot being fired right now.
    wheel.schedule(64 * TICK, child, 'same-slot');
    wheel.schedule(-5, child, 'negative');
  });
  host.now = 100;
  const fired = wheel.runDue();
  assert.equal(fired, 1, 'only the parent ran in its tick');
  assert.deepEqual(log, ['parent']);
  host.advanceTo(100 + 64 * TICK - 1);
  assert.deepEqual(log.slice(1).sort(), ['negative', 'zero']);
  host.advanceTo(100 + 65 * TICK);
  assert.equal(firedAt.get('same-slot'), 100 + 64 * TICK);
});

test('a throwing callback is reported to onError and the wheel keeps going', () => {
  const errors: [unknown, TimerHandle][] = [];
  const { host, wheel } = fakeWheel({ onError: (error, handle) => errors.push([error, handle]) });
  const fired: unknown[] = [];
  const boom = new Error('boom');
  const bad = wheel.schedule(100, () => {
    throw boom;
  });
  wheel.schedule(100, pushTo(fired), 'same tick');
  wheel.schedule(5000, pushTo(fired), 'later');
  host.advance(10 * SECOND);
  assert.deepEqual(fired, ['same tick', 'later']);
  assert.equal(errors.length, 1);
  assert.equal(errors[0][0], boom);
  assert.equal(errors[0][1], bad);
});

test('runDue called from inside a callback does nothing', () => {
  const { host, wheel } = fakeWheel();
  let inner = -1;
  wheel.schedule(10, () => {
    inner = wheel.runDue(HOUR);
  });
  wheel.schedule(500, () => {});
  host.advance(100);
  assert.equal(inner, 0);
  assert.equal(wheel.size, 1);
});

test('the host timer is armed only while timers are pending and at most one at a time', () => {
  const { host, wheel } = fakeWheel();
  assert.equal(host.isArmed, false, 'a new wheel arms nothing');
  const h = wheel.schedule(30 * SECOND, () => {});
  assert.equal(host.isArmed, true);
  for (let i = 0; i < 1000; i++) wheel.schedule(30 * SECOND + i, () => {});
  assert.equal(host.sets, 1, 'later timers do not re-arm the host timer');
  wheel.schedule(100, () => {});
  assert.equal(host.sets, 2, 'an earlier timer re-arms it');
  host.advance(5 * 60 * SECOND);
  assert.equal(wheel.size, 0);
  assert.equal(host.isArmed, false, 'nothing is armed once every timer has fired');

  // After cancelling the last timer, the host timer lapses once and is not re-armed.
  wheel.reschedule(h, 10 * SECOND);
  h.cancel();
  host.advance(60 * SECOND);
  assert.equal(host.isArmed, false);
  const wakes = host.wakes;
  host.advance(10 * HOUR);
  assert.equal(host.wakes, wakes, 'an idle wheel never wakes up');
});

test('schedule/cancel churn of one timer creates no host timer after the first', () => {
  const { host, wheel } = fakeWheel();
  for (let i = 0; i < 1000; i++) wheel.schedule(5 * SECOND, () => {}).cancel();
  assert.equal(host.sets, 1);
});

test('reschedule uses a performance.now() reading it is given only when that is its clock', () => {
  // The wheel's own clock (performance.now()), fake host timers driven by runDue: a reading
  // 80 ms old puts a 100 ms deadline 20 ms from now.
  const real = new TimerWheel({ timers: new FakeHost() });
  let fired = 0;
  const handle = real.schedule(HOUR, () => {
    fired++;
  });
  const reading = performance.now() - 80;
  real.reschedule(handle, 100, reading);
  real.runDue(reading + 125);
  assert.equal(fired, 1, 'the deadline counted from the reading given');
  real.close();

  // An injected clock: the reading is not of it, so the wheel reads its own.
  const { host, wheel } = fakeWheel();
  const other = wheel.schedule(HOUR, () => {
    fired++;
  });
  wheel.reschedule(other, 100, -80);
  host.advance(30);
  assert.equal(fired, 1, 'the deadline counted from the injected clock');
  host.advance(80);
  assert.equal(fired, 2);
});

test('a real wheel does not keep the process alive: its host timer is unref()d', () => {
  const wheel = new TimerWheel();
  const timeouts = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
  const before = timeouts();
  wheel.schedule(60 * SECOND, () => {});
  assert.equal(wheel.size, 1);
  assert.equal(timeouts(), before);
  wheel.close();
});

test('close drops pending timers, disarms the host timer and rejects new timers', () => {
  const { host, wheel } = fakeWheel();
  let fired = 0;
  const handle = wheel.schedule(100, () => {
    fired++;
  });
  wheel.schedule(HOUR, () => {
    fired++;
  });
  wheel.close();
  assert.equal(wheel.closed, true);
  assert.equal(wheel.size, 0);
  assert.equal(handle.pending, false);
  assert.equal(host.isArmed, false);
  host.advance(2 * HOUR);
  assert.equal(fired, 0);
  assert.throws(
    () => wheel.schedule(1, () => {}),
    (e: unknown) => e instanceof TimerWheelError && e.code === 'AVX_TIMER_WHEEL_CLOSED',
  );
  assert.throws(() => handle.refresh(), TimerWheelError);
  wheel.close();
});

test('a callback may close the wheel; later callbacks of the same tick do not run', () => {
  const { host, wheel } = fakeWheel();
  let fired = 0;
  const closeIt = () => {
    fired++;
    wheel.close();
  };
  wheel.schedule(100, closeIt);
  wheel.schedule(100, closeIt);
  wheel.schedule(200, closeIt);
  host.advance(SECOND);
  assert.equal(fired, 1);
  assert.equal(host.isArmed, false);
});

test('invalid delays, ticks and foreign handles are rejected', () => {
  const { wheel } = fakeWheel();
  for (const delay of [Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
    assert.throws(
      () => wheel.schedule(delay, () => {}),
      (e: unknown) => e instanceof TimerWheelError && e.code === 'AVX_TIMER_INVALID_DELAY',
    );
  }
  assert.equal(wheel.size, 0);
  for (const tickMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => new TimerWheel({ tickMs }),
      (e: unknown) => e instanceof TimerWheelError && e.code === 'AVX_TIMER_INVALID_TICK',
    );
  }
  const other = fakeWheel().wheel;
  const foreign = other.schedule(100, () => {});
  assert.throws(
    () => wheel.reschedule(foreign, 10),
    (e: unknown) => e instanceof TimerWheelError && e.code === 'AVX_TIMER_FOREIGN_HANDLE',
  );
  assert.equal(wheel.cancel(foreign), false);
  assert.equal(foreign.pending, true);
});

test('a custom tick length sets the resolution', () => {
  const { host, wheel } = fakeWheel({ tickMs: 50 });
  const firedAt: number[] = [];
  wheel.schedule(1001, () => {
    firedAt.push(host.now);
  });
  host.advance(2 * SECOND);
  assert.equal(firedAt[0], 1050);
});

test('defaultTimerWheel is one shared wheel, replaced once closed', () => {
  const wheel = defaultTimerWheel();
  assert.equal(defaultTimerWheel(), wheel);
  assert.equal(typeof wheel.now(), 'number');
  wheel.close();
  const next = defaultTimerWheel();
  assert.notEqual(next, wheel);
  assert.equal(next.closed, false);
});

test('with the real clock and host timer, a 30 ms timer fires', async () => {
  const wheel = defaultTimerWheel();
  let guard: ReturnType<typeof setTimeout> | undefined;
  const value = await new Promise((resolve, reject) => {
    // The wheel's host timer is unref'd; this ref'd guard keeps the loop alive and bounds the wait.
    guard = setTimeout(() => reject(new Error('the 30 ms timer did not fire within 10 s')), 10_000);
    wheel.schedule(30, resolve, 'fired');
  });
  clearTimeout(guard);
  assert.equal(value, 'fired');
  assert.equal(wheel.size, 0);
});
