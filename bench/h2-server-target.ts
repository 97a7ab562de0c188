/**
 * The HTTP/2 servers bench/h2 loads, one per process so each can be pinned to a core:
 * `node dist/bench/h2-server-target.js <avx|node> <h2c|tls> <port> [maxConcurrentStreams]`.
 * Both answer GET / with "hello world". Prints "ready" once listening.
 */
import {
  createSecureServer,
  createServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { App } from '../src/server/app.js';
import { testCertificate } from '../test/tls-certificate.js';

const [kind, mode, portArg, streamsArg] = process.argv.slice(2);
const port = Number(portArg);
const maxConcurrentStreams = Number(streamsArg ?? 100);

async function main(): Promise<void> {
  const tls = mode === 'tls' ? testCertificate() : undefined;
  if (kind === 'avx') {
    const app = new App();
    app.get('/', () => 'hello world');
    await app.listen({
      port,
      host: '127.0.0.1',
      tls,
      keepAliveTimeout: 120_000,
      http2: { maxConcurrentStreams },
    });
  } else if (kind === 'node') {
    const handler = (_req: Http2ServerRequest, res: Http2ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('hello world');
    };
    const settings = { maxConcurrentStreams };
    const server =
      tls !== undefined
        ? createSecureServer({ ...tls, settings, allowHTTP1: true }, handler)
        : createServer({ settings }, handler);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  } else {
    throw new Error(`unknown server kind ${kind}`);
  }
  console.log('ready');
}

process.on('SIGINT', () => process.exit(0));
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
