/**
 * GOAWAY (RFC 9114 §5.2, §7.2.6) both ways: a server's graceful shutdown lets requests under
 * way complete and rejects later ones (H3_REQUEST_REJECTED); a client that received GOAWAY
 * opens no new request and learns which of its requests were not processed; ids never grow.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { H3ErrorCode as E } from '../../src/h3/h3-error.js';
import { H3_MAX_REQUEST_STREAM_ID } from '../../src/h3/h3-frame-types.js';
import { GET, H3Pair, normalize } from './h3-test-pair.js';

test('server GOAWAY: the request under way completes, a later one is rejected (§5.2)', () => {
  const pair = new H3Pair();
  const first = pair.client.sendRequest(GET);
  pair.pump();
  // The second request is in flight when the server sends GOAWAY.
  const second = pair.client.sendRequest([...GET.slice(0, 6), ':path', '/second']);
  const events = pair.server.goaway();
  assert.deepEqual(events, []);
  assert.equal(pair.server.goawaySent, first + 4);
  pair.server.sendResponse(first, [':status', '200'], Buffer.from('ok'));
  pair.pump();
  const client = normalize(pair.events.client);
  assert.deepEqual(client.connection!.slice(1), [{ type: 'goaway', id: 4 }]);
  assert.deepEqual(client[`stream ${second}`], [{ type: 'requestRejected', streamId: second }]);
  assert.deepEqual(
    client[`stream ${first}`]!.map((e) => (e as { type: string }).type),
    ['headers', 'data', 'end'],
  );
  // The server never saw the second request.
  assert.equal(normalize(pair.events.server)[`stream ${second}`], undefined);
  assert.equal(pair.client.goawayReceived, 4);
  assert.throws(() => pair.client.sendRequest(GET), /GOAWAY/);
  assert.equal(pair.client.activeStreamCount, 0);
  assert.equal(pair.server.activeStreamCount, 0);
  assert.deepEqual(pair.closes, { client: [], server: [] });
});

test('server GOAWAY in two steps: the maximum id first, then the real one (§5.2)', () => {
  const pair = new H3Pair();
  pair.server.goaway(H3_MAX_REQUEST_STREAM_ID);
  const a = pair.client.sendRequest(GET);
  pair.pump();
  assert.deepEqual(
    pair.events.client.filter((e) => e.type === 'goaway'),
    [{ type: 'goaway', id: H3_MAX_REQUEST_STREAM_ID }],
  );
  // The request sent after the first GOAWAY is still served.
  assert.ok(pair.events.server.some((e) => e.type === 'end' && e.streamId === a));
  pair.server.goaway();
  assert.equal(pair.server.goawaySent, a + 4);
  assert.throws(() => pair.server.goaway(a + 8), /above the previous/);
  assert.throws(() => pair.server.goaway(6), /client-initiated bidirectional/);
  pair.server.sendResponse(a, [':status', '204']);
  pair.pump();
  assert.ok(pair.events.client.some((e) => e.type === 'end' && e.streamId === a));
  assert.deepEqual(pair.closes, { client: [], server: [] });
});

test('server GOAWAY below a request it already has rejects that request (§5.2)', () => {
  const pair = new H3Pair();
  pair.client.sendRequest(GET);
  const b = pair.client.sendRequest(GET);
  pair.pump();
  const events = pair.server.goaway(b);
  assert.deepEqual(events, [{ type: 'requestRejected', streamId: b }]);
  const commands = pair.server.takeCommands().filter((c) => c.kind === 'reset' || c.kind === 'stopSending');
  assert.deepEqual(
    commands.map((c) => [c.kind, 'code' in c ? c.code : 0]),
    [['reset', E.H3_REQUEST_REJECTED]],
  );
});

test('client GOAWAY carries a push id; the server sees it (§5.2, §7.2.6)', () => {
  const pair = new H3Pair();
  pair.client.goaway();
  pair.pump();
  assert.deepEqual(
    pair.events.server.filter((e) => e.type === 'goaway'),
    [{ type: 'goaway', id: 0 }],
  );
  // The client may still send requests; the server still answers.
  const id = pair.client.sendRequest(GET);
  pair.pump();
  assert.ok(pair.events.server.some((e) => e.type === 'end' && e.streamId === id));
  assert.throws(() => pair.client.goaway(1), /above the previous/);
});

test('close: a close command with H3_NO_ERROR, then nothing more (§5.2, §8)', () => {
  const pair = new H3Pair();
  pair.pump();
  pair.server.close();
  pair.pump();
  assert.deepEqual(pair.closes.server, [{ code: E.H3_NO_ERROR, reason: '' }]);
  assert.equal(pair.server.closed, true);
  assert.throws(() => pair.server.goaway(), /closed/);
});
