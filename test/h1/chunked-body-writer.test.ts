import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { test } from 'node:test';
import { type ChunkedBody, ChunkedBodyWriter, type ChunkSink } from '../../src/h1/chunked-body-writer.js';

const { DATA_START, TAIL } = ChunkedBodyWriter;

/** A sink that notes each write; `keep` makes it hold the next writes (as a full socket does). */
class RecordingSink implements ChunkSink {
  writes: Buffer[] = [];
  writableLength = 0;
  keep = false;
  corked = 0;
  write(chunk: Buffer | string): boolean {
    // A copy: the writer may write over the buffer afterwards, which is what is tested.
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : Buffer.from(chunk);
    this.writes.push(bytes);
    if (this.keep) this.writableLength += bytes.length;
    return !this.keep;
  }
  cork(): void {
    this.corked++;
  }
  uncork(): void {
    this.corked--;
  }
}

/** A body of `pieces`, each sent as a chunk of its own, the last one with the end. */
function piecesBody(pieces: string[]): ChunkedBody {
  return {
    writeTo(w) {
      for (let i = 0; i < pieces.length; i++) {
        const piece = Buffer.from(pieces[i]!);
        w.ensure(piece.length);
        const end = DATA_START + piece.copy(w.buf, DATA_START);
        if (i === pieces.length - 1) w.end(end);
        else w.send(end);
      }
      if (pieces.length === 0) w.end(DATA_START);
    },
  };
}

test('chunks are framed per RFC 9112 §7.1: size in hex, CRLF, data, CRLF, then 0 CRLF CRLF', () => {
  const sink = new RecordingSink();
  const w = new ChunkedBodyWriter(256);
  w.write(sink, 'HEAD\r\n\r\n', piecesBody(['a'.repeat(26), 'hello', 'x']));
  assert.deepEqual(
    sink.writes.map((b) => b.toString('latin1')),
    ['HEAD\r\n\r\n', `1a\r\n${'a'.repeat(26)}\r\n`, '5\r\nhello\r\n', '1\r\nx\r\n0\r\n\r\n'],
  );
  // The head and the first chunk leave together (corked).
  assert.equal(sink.corked, 0);
});

test('an empty body is the last-chunk alone, after the head', () => {
  const sink = new RecordingSink();
  new ChunkedBodyWriter(256).write(sink, 'H\r\n\r\n', piecesBody([]));
  assert.deepEqual(
    sink.writes.map((b) => b.toString('latin1')),
    ['H\r\n\r\n', '0\r\n\r\n'],
  );
});

test('the buffer is reused while the sink takes each chunk whole, and replaced while the sink holds one', () => {
  const sink = new RecordingSink();
  const w = new ChunkedBodyWriter(256);
  const seen: Buffer[] = [];
  const body: ChunkedBody = {
    writeTo(writer) {
      for (let i = 0; i < 4; i++) {
        seen.push(writer.buf);
        if (i === 1) sink.keep = true;
        writer.send(DATA_START + writer.buf.write(`part${i}`, DATA_START));
      }
      seen.push(writer.buf);
      writer.end(DATA_START);
    },
  };
  w.write(sink, '', body);
  // Chunk 0 went out whole: its buffer is filled again for chunk 1. Chunks 1 and 2 were kept
  // by the sink: each next chunk got a new buffer, and no kept bytes were written over.
  assert.equal(seen[1], seen[0]);
  assert.notEqual(seen[2], seen[1]);
  assert.notEqual(seen[3], seen[2]);
  assert.deepEqual(
    sink.writes.slice(1).map((b) => b.toString('latin1')),
    ['5\r\npart0\r\n', '5\r\npart1\r\n', '5\r\npart2\r\n', '5\r\npart3\r\n', '0\r\n\r\n'],
  );
});

test('ensure() grows the buffer for a piece larger than an empty chunk, and the size line grows with it', () => {
  const sink = new RecordingSink();
  const w = new ChunkedBodyWriter(128);
  assert.equal(w.room, 128 - DATA_START - TAIL);
  const big = 'b'.repeat(70000);
  w.write(sink, '', piecesBody(['small', big]));
  const text = Buffer.concat(sink.writes).toString('latin1');
  assert.equal(text, `5\r\nsmall\r\n11170\r\n${big}\r\n0\r\n\r\n`);
  assert.ok(w.room >= 70000);
});

test('node:http reads a chunked body written through a socket, across many reused chunks', async () => {
  let received = '';
  const server = http.createServer((req, res) => {
    req.setEncoding('latin1');
    req.on('data', (c: string) => {
      received += c;
    });
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const pieces = Array.from({ length: 300 }, (_, i) => `${i}:${'z'.repeat(i % 97)};`);
  try {
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c) => {
        text += c.toString('latin1');
        if (text.endsWith('ok')) resolve(text);
      });
    });
    new ChunkedBodyWriter(512).write(
      socket,
      `POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ntransfer-encoding: chunked\r\n\r\n`,
      piecesBody(pieces),
    );
    assert.match(await answer, /^HTTP\/1\.1 200 OK/);
    assert.equal(received, pieces.join(''));
  } finally {
    socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
