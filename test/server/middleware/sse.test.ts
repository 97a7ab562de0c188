/**
 * Tests of the Server-Sent Events helper (WHATWG HTML §9.2): the event-stream encoding, the
 * response head, Last-Event-ID, heartbeats on a TimerWheel driven by a fake clock, and teardown
 * (the source's finally blocks run) on client abort, on the driver's return() and on errors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TimerWheel, type TimerWheelTimers } from '../../../src/runtime/timer-wheel.js';
import { formatSseEvent, type SseEvent, SseFieldError, sse } from '../../../src/server/middleware/sse.js';
import { makeRequest } from './middleware-test-kit.js';

/** A wheel on a fake clock: `advance(ms)` fires whatever falls due, synchronously. */
class FakeWheel {
  now = 0;
  private armed: { at: number; callback: (wheel: TimerWheel) => void } | undefined;
  readonly wheel: TimerWheel;

  constructor() {
    const timers: TimerWheelTimers = {
      set: (callback, delayMs) => {
        const armed = { at: this.now + delayMs, callback };
        this.armed = armed;
        return armed;
      },
      clear: (token) => {
        if (this.armed === token) this.armed = undefined;
      },
    };
    this.wheel = new TimerWheel({ clock: () => this.now, timers });
  }

  advance(ms: number): void {
    const end = this.now + ms;
    while (this.armed !== undefined && this.armed.at <= end) {
      const due = this.armed;
      this.armed = undefined;
      this.now = due.at;
      due.callback(this.wheel);
    }
    this.now = end;
  }
}

/** A promise with its resolve function, to hold a source at an await. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Lets pending promise reactions run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

function iteratorOf(body: unknown): AsyncIterator<string> {
  return (body as AsyncIterable<string>)[Symbol.asyncIterator]();
}

async function readAll(body: unknown): Promise<string> {
  let out = '';
  for await (const chunk of body as AsyncIterable<string>) out += chunk;
  return out;
}

describe('formatSseEvent', () => {
  const cases: [SseEvent | string, string][] = [
    ['hello', 'data: hello\n\n'],
    ['', 'data: \n\n'],
    ['a\nb\r\nc\rd', 'data: a\ndata: b\ndata: c\ndata: d\n\n'],
    ['ends with newline\n', 'data: ends with newline\ndata: \n\n'],
    [{ data: 'x' }, 'data: x\n\n'],
    [{ data: { n: 1, s: 'two' } }, 'data: {"n":1,"s":"two"}\n\n'],
    [{ data: 42 }, 'data: 42\n\n'],
    [{ event: 'tick', id: '7', retry: 3000, data: 'now' }, 'event: tick\nid: 7\nretry: 3000\ndata: now\n\n'],
    [{ comment: 'hi\nthere' }, ': hi\n: there\n\n'],
    [{ id: '' }, 'id: \n\n'],
  ];
  for (const [event, expected] of cases) {
    it(`${JSON.stringify(event)}`, () => {
      assert.equal(formatSseEvent(event), expected);
    });
  }

  it('refuses fields that would forge lines', () => {
    assert.throws(() => formatSseEvent({ event: 'a\nid: 9' }), SseFieldError);
    assert.throws(() => formatSseEvent({ event: 'a\rb' }), SseFieldError);
    assert.throws(() => formatSseEvent({ id: 'a\nb' }), SseFieldError);
    assert.throws(() => formatSseEvent({ id: 'a\u0000b' }), SseFieldError);
    assert.throws(() => formatSseEvent({ retry: -1 }), SseFieldError);
    assert.throws(() => formatSseEvent({ retry: 1.5 }), SseFieldError);
  });
});

describe('sse', () => {
  it('builds a 200 text/event-stream response with no-cache', async () => {
    const req = makeRequest();
    const res = sse(
      req,
      async function* () {
        yield { event: 'greeting', data: 'hi' };
        yield 'second';
      },
      { heartbeatMs: 0, headers: { 'x-accel-buffering': 'no', 'cache-control': 'no-store' } },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(
      { ...res.headers.toObject() },
      { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
    );
    assert.equal(await readAll(res.body), 'event: greeting\ndata: hi\n\ndata: second\n\n');
  });

  it('passes Last-Event-ID and the request signal to the source, on the first read only', async () => {
    const req = makeRequest({ headers: { 'last-event-id': '41' } });
    const calls: [string | undefined, AbortSignal][] = [];
    const res = sse(
      req,
      async function* (lastEventId, signal) {
        calls.push([lastEventId, signal]);
        yield { id: String(Number(lastEventId) + 1), data: 'next' };
      },
      { heartbeatMs: 0 },
    );
    assert.equal(calls.length, 0);
    assert.equal(await readAll(res.body), 'id: 42\ndata: next\n\n');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]![0], '41');
    assert.equal(calls[0]![1], req.signal);
  });

  it('sends retry first when asked', async () => {
    const res = sse(
      makeRequest(),
      async function* () {
        yield 'x';
      },
      { heartbeatMs: 0, retry: 2500 },
    );
    assert.equal(await readAll(res.body), 'retry: 2500\n\ndata: x\n\n');
  });

  it('sends a heartbeat comment when the source is idle, and none while it is busy', async () => {
    const fake = new FakeWheel();
    const release = gate();
    const res = sse(
      makeRequest(),
      async function* () {
        yield 'first';
        await release.promise;
        yield 'second';
      },
      { heartbeatMs: 1000, timerWheel: fake.wheel },
    );
    const it = iteratorOf(res.body);
    assert.deepEqual(await it.next(), { done: false, value: 'data: first\n\n' });
    const pending = it.next();
    let resolved = false;
    pending.then(() => {
      resolved = true;
    });
    fake.advance(500);
    await settle();
    assert.equal(resolved, false);
    fake.advance(600);
    await settle();
    assert.deepEqual(await pending, { done: false, value: ': ping\n\n' });
    // Another idle period, another ping.
    const second = it.next();
    fake.advance(1100);
    assert.deepEqual(await second, { done: false, value: ': ping\n\n' });
    release.open();
    assert.deepEqual(await it.next(), { done: false, value: 'data: second\n\n' });
    assert.deepEqual(await it.next(), { done: true, value: undefined });
    assert.equal(fake.wheel.size, 0);
  });

  it('does not pile up heartbeats while the consumer is not reading', async () => {
    const fake = new FakeWheel();
    const res = sse(
      makeRequest(),
      async function* () {
        yield 'a';
        yield 'b';
      },
      { heartbeatMs: 1000, timerWheel: fake.wheel },
    );
    const it = iteratorOf(res.body);
    assert.equal((await it.next()).value, 'data: a\n\n');
    fake.advance(10_000); // a slow client: one ping is owed, not ten
    assert.equal((await it.next()).value, ': ping\n\n');
    assert.equal((await it.next()).value, 'data: b\n\n');
    assert.equal((await it.next()).done, true);
  });

  it('tears the source down when the client goes away, running its finally block', async () => {
    const fake = new FakeWheel();
    const req = makeRequest();
    let cleanedUp = false;
    let sourceSignal: AbortSignal | undefined;
    const res = sse(
      req,
      async function* (_id, signal) {
        sourceSignal = signal;
        try {
          for (let i = 0; ; i++) yield `event ${i}`;
        } finally {
          cleanedUp = true;
        }
      },
      { timerWheel: fake.wheel },
    );
    const it = iteratorOf(res.body);
    assert.equal((await it.next()).value, 'data: event 0\n\n');
    assert.equal(fake.wheel.size, 1);
    req.markAborted(new Error('client gone'));
    await settle();
    assert.equal(cleanedUp, true);
    assert.equal(sourceSignal?.aborted, true);
    assert.equal(fake.wheel.size, 0);
    assert.deepEqual(await it.next(), { done: true, value: undefined });
  });

  it('ends a read that is waiting on the source when the client goes away', async () => {
    const fake = new FakeWheel();
    const req = makeRequest();
    const hold = gate();
    let cleanedUp = false;
    const res = sse(
      req,
      async function* () {
        try {
          yield 'one';
          await hold.promise;
          yield 'two';
        } finally {
          cleanedUp = true;
        }
      },
      { timerWheel: fake.wheel },
    );
    const it = iteratorOf(res.body);
    await it.next();
    const waiting = it.next();
    await settle();
    req.markAborted(new Error('client gone'));
    assert.deepEqual(await waiting, { done: true, value: undefined });
    // The generator is inside an await: its finally runs once that await is over.
    assert.equal(cleanedUp, false);
    hold.open();
    await settle();
    assert.equal(cleanedUp, true);
  });

  it('tears the source down when the driver calls return()', async () => {
    const fake = new FakeWheel();
    let cleanedUp = false;
    const res = sse(
      makeRequest(),
      async function* () {
        try {
          yield 'x';
          yield 'y';
        } finally {
          cleanedUp = true;
        }
      },
      { timerWheel: fake.wheel },
    );
    const it = iteratorOf(res.body);
    await it.next();
    assert.deepEqual(await it.return!(), { done: true, value: undefined });
    await settle();
    assert.equal(cleanedUp, true);
    assert.equal(fake.wheel.size, 0);
    assert.deepEqual(await it.next(), { done: true, value: undefined });
  });

  it('does not start the source for a request already aborted', async () => {
    const req = makeRequest();
    req.markAborted(new Error('gone'));
    let started = false;
    const res = sse(req, async function* () {
      started = true;
      yield 'x';
    });
    assert.equal(await readAll(res.body), '');
    assert.equal(started, false);
  });

  it('fails the stream when the source throws or yields a bad event', async () => {
    const fake = new FakeWheel();
    const failing = sse(
      makeRequest(),
      async function* () {
        yield 'ok';
        throw new Error('database down');
      },
      { timerWheel: fake.wheel },
    );
    await assert.rejects(readAll(failing.body), /database down/);
    assert.equal(fake.wheel.size, 0);

    let cleanedUp = false;
    const forged = sse(
      makeRequest(),
      async function* () {
        try {
          yield { event: 'x\ndata: injected' };
        } finally {
          cleanedUp = true;
        }
      },
      { timerWheel: fake.wheel },
    );
    await assert.rejects(readAll(forged.body), SseFieldError);
    await settle();
    assert.equal(cleanedUp, true);
    assert.equal(fake.wheel.size, 0);
  });
});
