/**
 * The demo application `avx serve` runs when given no app of its own: routing with
 * parameters, JSON in and out, a streamed response, a Server-Sent Events clock, a static
 * folder and Prometheus metrics at /metrics (of every worker when it runs in a cluster), so a
 * new user sees each piece work in one command.
 */
import { fileURLToPath } from 'node:url';
import { App } from '../server/app.js';
import { sse } from '../server/middleware/sse.js';
import { serveStatic } from '../server/middleware/static-files.js';
import { Response } from '../server/response.js';
import { metrics } from '../telemetry/metrics/metrics-middleware.js';

/** Where the demo's page and stylesheet live (in the repository, beside dist/). */
export const DEMO_PUBLIC_DIR = fileURLToPath(new URL('../../../demo/public/', import.meta.url));

/** Builds the demo app; `publicDir` holds index.html and the static files. */
export function createDemoApp(publicDir: string = DEMO_PUBLIC_DIR): App {
  const app = new App();
  app.use(metrics({ cluster: true }));
  const files = serveStatic(publicDir);
  const assets = serveStatic(publicDir, { prefix: '/static' });

  app.get('/', (req) => files(req, async () => new Response('index.html is missing', { status: 404 })));
  app.get('/static/*', (req) => assets(req, async () => new Response('Not Found', { status: 404 })));
  app.get('/health', () => ({ ok: true, pid: process.pid }));
  app.get('/api/hello', () => ({ hello: 'world', server: 'avx-http', time: new Date().toISOString() }));
  app.get('/api/users/:id', (req) => ({ id: req.params.id, fields: req.query.get('fields') }));
  app.post('/api/echo', async (req) => ({ received: await req.json() }));
  app.get('/stream', () =>
    (async function* () {
      for (let i = 1; i <= 5; i++) {
        yield `chunk ${i} of 5\n`;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })(),
  );
  app.get('/events', (req) =>
    sse(req, async function* () {
      for (;;) {
        yield { event: 'tick', data: new Date().toISOString() };
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }),
  );
  return app;
}
