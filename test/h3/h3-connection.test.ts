/**
 * HTTP/3 connection tests (RFC 9114): a client core and a server core back to back through an
 * in-memory transport; a whole exchange gives the same events whatever the chunking and the
 * order in which streams are served; QPACK's dynamic table is used end to end, with request
 * streams blocked until the encoder stream catches up (RFC 9204 §2.2.1).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { H3Event } from '../../src/h3/h3-connection.js';
import { GET, H3Pair, normalize } from './h3-test-pair.js';

const POST = [':method', 'POST', ':scheme', 'https', ':authority', 'example.com', ':path', '/upload'];

/** Server behaviour: answer each complete request according to its path. */
function serve(pair: H3Pair): void {
  const paths = new Map<number, string>();
  pair.onEvent = (side, e) => {
    if (side !== 'server') return;
    if (e.type === 'headers' && !e.trailers) paths.set(e.streamId, e.fields[e.fields.indexOf(':path') + 1]!);
    if (e.type !== 'end') return;
    const path = paths.get(e.streamId)!;
    const server = pair.server;
    if (path === '/') {
      server.sendResponse(
        e.streamId,
        [':status', '200', 'content-type', 'text/plain', 'x-served-by', 'avx'],
        Buffer.from('hello'),
      );
    } else if (path === '/upload') {
      server.sendHeaders(e.streamId, [':status', '103', 'link', '</style.css>; rel=preload']);
      server.sendResponse(
        e.streamId,
        [':status', '201', 'content-length', '4', 'x-served-by', 'avx'],
        Buffer.from('done'),
        ['x-checksum', 'abc123'],
      );
    } else {
      server.sendResponse(e.streamId, [':status', '204', 'x-served-by', 'avx']);
    }
  };
}

function exchange(seed: number | undefined, maxChunk = 7): H3Pair {
  const pair = new H3Pair({ seed, maxChunk });
  serve(pair);
  const c = pair.client;
  assert.equal(c.sendRequest([...GET, 'x-request', 'one']), 0);
  // SETTINGS cross (with the first request): later requests may use the dynamic table.
  pair.pump();
  const body = Buffer.alloc(3000, 'x');
  assert.equal(c.sendRequest([...POST, 'content-length', '3000', 'x-request', 'two'], body), 4);
  const id = c.sendRequest([...POST, 'x-request', 'three'], undefined, { endStream: false });
  c.sendData(id, Buffer.from('part one, '));
  c.sendData(id, Buffer.from('part two'));
  c.sendTrailers(id, ['x-trailer', 'yes']);
  assert.equal(
    c.sendRequest([':method', 'DELETE', ':scheme', 'https', ':authority', 'example.com', ':path', '/item/7']),
    12,
  );
  pair.pump();
  return pair;
}

test('a whole exchange: requests, bodies, trailers, informational response (RFC 9114 §4.1)', () => {
  const pair = exchange(undefined);
  assert.deepEqual(pair.closes, { client: [], server: [] });
  const server = normalize(pair.events.server);
  const client = normalize(pair.events.client);
  assert.equal((server.connection![0] as { type: string }).type, 'settings');
  assert.deepEqual(server['stream 8'], [
    {
      type: 'headers',
      streamId: 8,
      fields: [...POST, 'x-request', 'three'],
      trailers: false,
      informational: false,
    },
    { type: 'data', data: 'part one, part two' },
    { type: 'headers', streamId: 8, fields: ['x-trailer', 'yes'], trailers: true, informational: false },
    { type: 'end', streamId: 8 },
  ]);
  assert.deepEqual(server['stream 4']![1], { type: 'data', data: 'x'.repeat(3000) });
  assert.deepEqual(client['stream 0'], [
    {
      type: 'headers',
      streamId: 0,
      fields: [':status', '200', 'content-type', 'text/plain', 'x-served-by', 'avx'],
      trailers: false,
      informational: false,
    },
    { type: 'data', data: 'hello' },
    { type: 'end', streamId: 0 },
  ]);
  assert.deepEqual(client['stream 4'], [
    {
      type: 'headers',
      streamId: 4,
      fields: [':status', '103', 'link', '</style.css>; rel=preload'],
      trailers: false,
      informational: true,
    },
    {
      type: 'headers',
      streamId: 4,
      fields: [':status', '201', 'content-length', '4', 'x-served-by', 'avx'],
      trailers: false,
      informational: false,
    },
    { type: 'data', data: 'done' },
    { type: 'headers', streamId: 4, fields: ['x-checksum', 'abc123'], trailers: true, informational: false },
    { type: 'end', streamId: 4 },
  ]);
  assert.deepEqual(
    client['stream 12']!.map((e) => (e as H3Event).type),
    ['headers', 'end'],
  );
  // Every stream finished on both sides.
  assert.equal(pair.client.activeStreamCount, 0);
  assert.equal(pair.server.activeStreamCount, 0);
  // The dynamic table was used both ways (RFC 9204 §3.2).
  assert.ok(pair.client.qpackEncoder.table.insertCount > 0);
  assert.ok(pair.server.qpackEncoder.table.insertCount > 0);
  assert.equal(pair.server.qpackDecoder.table.insertCount, pair.client.qpackEncoder.table.insertCount);
});

test('random chunking and stream order give identical events (RFC 9114 §7.1, RFC 9204 §2.2.1)', () => {
  const reference = exchange(undefined);
  const want = { client: normalize(reference.events.client), server: normalize(reference.events.server) };
  let blockedSomewhere = false;
  for (let seed = 1; seed <= 60; seed++) {
    const pair = exchange(seed, 1 + (seed % 13));
    assert.deepEqual(pair.closes, { client: [], server: [] }, `seed ${seed}`);
    assert.deepEqual(normalize(pair.events.client), want.client, `client, seed ${seed}`);
    assert.deepEqual(normalize(pair.events.server), want.server, `server, seed ${seed}`);
    if (pair.maxBlocked > 0) blockedSomewhere = true;
  }
  assert.ok(blockedSomewhere);
});

test('QPACK: a request blocked on the encoder stream is delivered once it is unblocked (RFC 9204 §2.2.1)', () => {
  const pair = new H3Pair();
  // Settings first, so that the client's encoder may use the dynamic table.
  pair.pump();
  const id = pair.client.sendRequest(
    [...POST, 'x-custom', 'a fairly long custom value'],
    Buffer.from('body!'),
  );
  // The request stream arrives before the encoder-stream instructions it references.
  pair.deliver('server', id);
  assert.deepEqual(
    pair.events.server.slice(-1).map((e) => e.type),
    ['settings'],
  );
  assert.equal(pair.server.qpackDecoder.blockedStreamCount, 1);
  // The client's encoder stream (id 6): the section, then the data behind it, come out.
  pair.deliver('server', 6);
  const after = normalize(pair.events.server)[`stream ${id}`];
  assert.deepEqual(after, [
    {
      type: 'headers',
      streamId: id,
      fields: [...POST, 'x-custom', 'a fairly long custom value'],
      trailers: false,
      informational: false,
    },
    { type: 'data', data: 'body!' },
    { type: 'end', streamId: id },
  ]);
  assert.equal(pair.server.qpackDecoder.blockedStreamCount, 0);
  // The server's decoder stream acknowledges the section (RFC 9204 §4.4.1).
  pair.pump();
  assert.equal(pair.client.qpackEncoder.knownReceivedCount, pair.client.qpackEncoder.table.insertCount);
  // A second request reuses the acknowledged entries: nothing new on the encoder stream.
  const inserted = pair.client.qpackEncoder.table.insertCount;
  pair.client.sendRequest([...POST, 'x-custom', 'a fairly long custom value'], Buffer.from('again'));
  assert.equal(pair.client.qpackEncoder.table.insertCount, inserted);
  pair.pump();
  assert.equal(pair.events.server.filter((e) => e.type === 'end').length, 2);
});

test('QPACK: a reset blocked stream is cancelled at the decoder (RFC 9204 §4.4.2)', () => {
  const pair = new H3Pair();
  pair.pump();
  const id = pair.client.sendRequest([...GET, 'x-custom', 'another long custom value']);
  pair.deliver('server', id);
  assert.equal(pair.server.qpackDecoder.blockedStreamCount, 1);
  const events = pair.server.streamReset(id, 0x10c);
  assert.equal(pair.server.qpackDecoder.blockedStreamCount, 0);
  assert.deepEqual(events, [{ type: 'streamReset', streamId: id, code: 0x10c }]);
  // The Stream Cancellation instruction goes out on the server's decoder stream (id 11).
  const writes = pair.server.takeCommands().filter((c) => c.kind === 'write' && c.streamId === 11);
  assert.deepEqual(
    writes.map((c) => (c.kind === 'write' ? c.bytes.toString('hex') : '')),
    [(0x40 | id).toString(16)],
  );
});

test('SETTINGS we announce reach the peer (RFC 9114 §7.2.4)', () => {
  const pair = new H3Pair(
    {},
    { maxFieldSectionSize: 1000, qpackMaxTableCapacity: 300, qpackBlockedStreams: 3 },
  );
  pair.pump();
  const got = pair.server.peerSettings!;
  assert.equal(got.maxFieldSectionSize, 1000);
  assert.equal(got.qpackMaxTableCapacity, 300);
  assert.equal(got.qpackBlockedStreams, 3);
  // The server's encoder table is capped by the client's setting (RFC 9204 §3.2.3).
  assert.equal(pair.server.qpackEncoder.table.capacity, 300);
  // We refuse to send a field section above the peer's limit (RFC 9114 §4.2.2).
  const id = pair.client.sendRequest(GET);
  pair.pump();
  assert.throws(
    () => pair.server.sendResponse(id, [':status', '200', 'x-big', 'v'.repeat(1000)]),
    /MAX_FIELD_SECTION_SIZE/,
  );
});
