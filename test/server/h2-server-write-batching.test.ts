import assert from 'node:assert/strict';
import { connect, Socket } from 'node:net';
import { test } from 'node:test';
import { H2FrameParser } from '../../src/h2/h2-frame-parser.js';
import { H2_CLIENT_PREFACE, H2Flag, H2FrameType } from '../../src/h2/h2-frame-types.js';
import { H2FrameWriter } from '../../src/h2/h2-frame-writer.js';
import { HpackEncoder } from '../../src/h2/hpack-encoder.js';
import { App } from '../../src/server/app.js';

test('regression: h2c answered each stream of one read with its own socket write (one write per read now)', async () => {
  const app = new App();
  app.get('/', () => 'hello world');
  const server = await app.listen({ port: 0, host: '127.0.0.1' });
  // Count the writes that reach the server's sockets as system calls: `_write` for one chunk,
  // `_writev` for a corked batch.
  let writes = 0;
  const proto = Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = { _write: proto._write!, _writev: proto._writev! };
  for (const name of ['_write', '_writev'] as const) {
    const original = originals[name];
    proto[name] = function (this: Socket, ...args: unknown[]) {
      if (this.localPort === server.port) writes++;
      return original.apply(this, args);
    };
  }
  const socket = connect(server.port, '127.0.0.1');
  try {
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const streams = 50;
    let answered = 0;
    let settled!: () => void;
    const done = new Promise<void>((resolve) => {
      settled = resolve;
    });
    const writer = new H2FrameWriter();
    const parser = new H2FrameParser(
      {
        onFrame(type, flags) {
          if (type === H2FrameType.SETTINGS && (flags & H2Flag.ACK) === 0) {
            writer.settingsAck();
            socket.write(Buffer.concat(writer.take()));
          }
          if (type === H2FrameType.DATA && (flags & H2Flag.END_STREAM) !== 0 && ++answered === streams) {
            settled();
          }
        },
      },
      { expectPreface: false, maxFrameSize: 1 << 24 },
    );
    socket.on('data', (chunk) => parser.execute(chunk));
    socket.write(H2_CLIENT_PREFACE);
    writer.settings([]);
    socket.write(Buffer.concat(writer.take()));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = writes;
    // 50 requests in one write, so the server reads them in one chunk.
    const encoder = new HpackEncoder();
    for (let i = 0; i < streams; i++) {
      const fields = [':method', 'GET', ':scheme', 'http', ':authority', 'x', ':path', '/'];
      writer.headers(1 + 2 * i, encoder.encode(fields), true, 16384);
    }
    socket.write(Buffer.concat(writer.take()));
    await done;
    const used = writes - before;
    assert.ok(used <= 3, `50 responses of one read took ${used} socket writes`);
  } finally {
    proto._write = originals._write;
    proto._writev = originals._writev;
    socket.destroy();
    await server.close();
  }
});
