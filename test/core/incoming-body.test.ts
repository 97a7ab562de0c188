import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BodyTooLargeError,
  BodyUsedError,
  IncomingBody,
  InvalidJsonBodyError,
} from '../../src/core/incoming-body.js';

/** A source that records pause/resume calls. */
function recordingSource() {
  const calls: string[] = [];
  return {
    calls,
    paused: () => calls.filter((c) => c === 'pause').length - calls.filter((c) => c === 'resume').length > 0,
    source: {
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
      abandon: () => calls.push('abandon'),
    },
  };
}

test('bytes(), text() and json() read the whole body once', async () => {
  const body = new IncomingBody();
  body.push(Buffer.from('{"a":'));
  setImmediate(() => {
    body.push(Buffer.from('1}'));
    body.end();
  });
  assert.deepEqual(await body.json(), { a: 1 });
  await assert.rejects(body.text(), BodyUsedError);
  await assert.rejects(IncomingBody.of('{bad').json(), InvalidJsonBodyError);
});

test('a body over its limit fails with BodyTooLargeError (413), also when announced up front', async () => {
  const body = new IncomingBody({ limit: 4 });
  assert.equal(body.push(Buffer.from('abcd')), true);
  assert.equal(body.push(Buffer.from('e')), false);
  await assert.rejects(body.bytes(), (err) => err instanceof BodyTooLargeError && err.status === 413);
  await assert.rejects(new IncomingBody({ limit: 4, expectedLength: 5 }).bytes(), BodyTooLargeError);
});

test('the source is paused above the high-water mark and resumed as the reader catches up', async () => {
  const rec = recordingSource();
  const body = new IncomingBody({ highWaterMark: 8, source: rec.source });
  body.push(Buffer.alloc(6));
  assert.equal(rec.paused(), false);
  body.push(Buffer.alloc(6));
  assert.equal(rec.paused(), true);
  const seen: number[] = [];
  const reading = (async () => {
    for await (const chunk of body) seen.push(chunk.length);
  })();
  await new Promise((r) => setImmediate(r));
  assert.equal(rec.paused(), false, 'reading released the source');
  body.end();
  await reading;
  assert.deepEqual(seen, [6, 6]);
});

test('discard() of a body larger than the high-water mark completes (regression: the source stayed paused)', async () => {
  const rec = recordingSource();
  const body = new IncomingBody({ highWaterMark: 16, source: rec.source });
  body.push(Buffer.alloc(32)); // paused before anyone reads
  const done = body.discard();
  // The driver only delivers while not paused, as a socket would.
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setImmediate(r));
    assert.equal(rec.paused(), false, `source paused at chunk ${i}`);
    body.push(Buffer.alloc(32));
  }
  body.end();
  await done;
  assert.equal(body.complete, true);
});

test('a reader that stops early abandons the source', async () => {
  const rec = recordingSource();
  const body = new IncomingBody({ source: rec.source });
  body.push(Buffer.from('a'));
  body.push(Buffer.from('b'));
  for await (const _chunk of body) break;
  assert.ok(rec.calls.includes('abandon'));
});
