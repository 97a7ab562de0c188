/**
 * Loopback servers for the client tests: a node:http server with a handler, and a raw TCP
 * server whose bytes the test writes itself (for malformed, stalled or cut-short responses).
 * Every server listens on 127.0.0.1 on a free port and tracks its sockets so `close()` ends them.
 */
import http from 'node:http';
import net from 'node:net';

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:PORT`. */
  origin: string;
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Sockets currently open. */
  readonly open: Set<net.Socket>;
  close(): Promise<void>;
}

function track(server: net.Server): { open: Set<net.Socket>; count: () => number } {
  const open = new Set<net.Socket>();
  let count = 0;
  server.on('connection', (socket: net.Socket) => {
    count++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  return { open, count: () => count };
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

function finish(server: net.Server, open: Set<net.Socket>): Promise<void> {
  for (const s of open) s.destroy();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A node:http server running `handler`. */
export async function httpServer(
  handler: http.RequestListener,
): Promise<TestServer & { server: http.Server }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 10_000;
  const t = track(server);
  const port = await listen(server);
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return t.count();
    },
    open: t.open,
    close: () => finish(server, t.open),
  };
}

/** A raw TCP server: `onSocket` writes whatever bytes the test wants. */
export async function rawServer(onSocket: (socket: net.Socket) => void): Promise<TestServer> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    onSocket(socket);
  });
  const t = track(server);
  const port = await listen(server);
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return t.count();
    },
    open: t.open,
    close: () => finish(server, t.open),
  };
}

/** Calls `onRequest(socket, head)` for every complete request head (bodiless requests). */
export function onRequestHeads(socket: net.Socket, onRequest: (head: string) => void): void {
  let buffered = '';
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buffered.slice(0, end);
      buffered = buffered.slice(end + 4);
      onRequest(head);
    }
  });
}

/** Reads a node:http request's body as a string. */
export async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Resolves after `ms` (for letting sockets settle; never used to assert timings). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
