/**
 * The servers that bench/h1-server loads, one per process so each can be pinned to a core:
 * `node dist/bench/h1-server-target.js <avx|node|fastify> <port>`. Each serves the same three
 * routes: GET / (hello world), GET /json (a small JSON object), POST /echo (reads the body,
 * answers its length). Prints "ready" once listening.
 */
import { createServer } from 'node:http';
import { App } from '../src/server/app.js';

const kind = process.argv[2];
const port = Number(process.argv[3]);
const payload = { message: 'hello world', id: 42, tags: ['fast', 'small'], ok: true };
const keepAliveTimeout = 120_000;

async function main(): Promise<void> {
  if (kind === 'avx') {
    const app = new App();
    app.get('/', () => 'hello world');
    app.get('/json', () => payload);
    app.post('/echo', async (req) => `${(await req.bytes()).length}`);
    await app.listen({ port, host: '127.0.0.1', keepAliveTimeout, headersTimeout: 120_000 });
  } else if (kind === 'node') {
    const server = createServer((req, res) => {
      if (req.method === 'POST') {
        let n = 0;
        req.on('data', (c: Buffer) => {
          n += c.length;
        });
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(String(n));
        });
        return;
      }
      if (req.url === '/json') {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(payload));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('hello world');
    });
    server.keepAliveTimeout = keepAliveTimeout;
    server.headersTimeout = 120_000;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  } else if (kind === 'fastify') {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false, keepAliveTimeout });
    app.get('/', async () => 'hello world');
    app.get('/json', async () => payload);
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.post('/echo', async (req) => `${(req.body as Buffer).length}`);
    await app.listen({ port, host: '127.0.0.1' });
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
