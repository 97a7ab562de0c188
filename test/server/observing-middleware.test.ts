import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { test } from 'node:test';
import { Headers } from '../../src/core/headers.js';
import { IncomingBody } from '../../src/core/incoming-body.js';
import { App } from '../../src/server/app.js';
import type { Middleware, ObservingMiddleware, Proceed } from '../../src/server/handler.js';
import { HttpError } from '../../src/server/http-error.js';
import { Request } from '../../src/server/request.js';
import { Response } from '../../src/server/response.js';

function get(target: string): Request {
  return new Request({
    method: 'GET',
    target,
    headers: new Headers({ host: 'x' }),
    body: IncomingBody.empty(),
    protocol: 'http/1.1',
    connection: { remoteAddress: '', remotePort: 0, secure: false },
  });
}

/** An observer that logs what it saw, in both forms, answering `/own` itself. */
function observer(log: string[], name: string): ObservingMiddleware {
  const middleware: Middleware = (req, next) => {
    log.push(`${name} as middleware ${req.path}`);
    return next();
  };
  return Object.assign(middleware, {
    observe(req: Request, proceed: Proceed) {
      log.push(`${name} observed ${req.path}`);
      if (req.path === '/own') return new Response('own', { status: 202 });
      return proceed(req);
    },
  });
}

test('observing middleware: a synchronous handler answers synchronously, unconverted', async () => {
  const log: string[] = [];
  const app = new App();
  app.use(observer(log, 'a'));
  app.use(observer(log, 'b'));
  app.get('/', () => 'hello');
  app.get('/own', () => 'never');
  const result = app.dispatch(get('/'));
  assert.equal(result, 'hello'); // not a promise, not a Response
  assert.deepEqual(log, ['a observed /', 'b observed /']);
  const own = app.dispatch(get('/own'));
  assert.ok(own instanceof Response && own.status === 202);
  assert.deepEqual(log.slice(2), ['a observed /own']);
});

test('observing middleware: errors of the observer, of sync and async handlers become error responses', async () => {
  const app = new App();
  const thrower: ObservingMiddleware = Object.assign(((_req, next) => next()) as Middleware, {
    observe(req: Request, proceed: Proceed) {
      if (req.path === '/observer-fails') throw new HttpError(418, 'teapot');
      return proceed(req);
    },
  });
  app.use(thrower);
  app.get('/observer-fails', () => 'x');
  app.get('/sync-fails', () => {
    throw new HttpError(409, 'conflict');
  });
  app.get('/async-fails', async () => {
    throw new HttpError(410, 'gone');
  });
  app.get('/missing/:id', () => 'x');
  assert.equal((await app.handle(get('/observer-fails'))).status, 418);
  assert.equal((await app.handle(get('/sync-fails'))).status, 409);
  assert.equal((await app.handle(get('/async-fails'))).status, 410);
  assert.equal((await app.handle(get('/nothing-here'))).status, 404);
});

test('observing middleware mixed with ordinary middleware keeps the onion order and its changes', async () => {
  const log: string[] = [];
  const app = new App();
  app.use(observer(log, 'outer'));
  app.use(async (_req, next) => {
    log.push('ordinary');
    const res = await next();
    res.headers.set('x-seen', 'yes');
    return res;
  });
  app.use(observer(log, 'inner'));
  app.get('/', () => 'body');
  const res = await app.handle(get('/'));
  assert.equal(res.body, 'body');
  assert.equal(res.headers.get('x-seen'), 'yes');
  // After an ordinary middleware, an observer runs as ordinary middleware.
  assert.deepEqual(log, ['outer observed /', 'ordinary', 'inner as middleware /']);
});

test('observing middleware: proceed run inside an AsyncLocalStorage context reaches the handler after awaits', async () => {
  const storage = new AsyncLocalStorage<string>();
  const app = new App();
  app.use(
    Object.assign(((_req, next) => next()) as Middleware, {
      observe: (req: Request, proceed: Proceed) => storage.run(`ctx ${req.path}`, proceed, req),
    }),
  );
  app.get('/a', async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return storage.getStore() ?? 'lost';
  });
  assert.equal((await app.handle(get('/a'))).body, 'ctx /a');
});
