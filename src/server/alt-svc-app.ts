/**
 * The app as the HTTP/1.1 and HTTP/2 drivers of a server with `http3` on see it: the same
 * app, whose responses carry `Alt-Svc` (RFC 7838 §3) naming the HTTP/3 endpoint
 * (RFC 9114 §3.1.1), unless the handler set one. Everything else is the app's own, bound to
 * it, so that its state and the requests it owns stay its own.
 */
import type { App } from './app.js';
import type { Request } from './request.js';
import { type HandlerResult, toResponse } from './response.js';

/** Returns a view of `app` that adds `Alt-Svc: value()` to each dispatched response. */
export function altSvcApp(app: App, value: () => string): App {
  const bound = new Map<PropertyKey, unknown>();
  const add = (result: HandlerResult): HandlerResult => {
    const res = toResponse(result);
    if (!res.headers.has('alt-svc')) res.headers.set('alt-svc', value());
    return res;
  };
  const dispatch = (req: Request): HandlerResult | Promise<HandlerResult> => {
    const result = app.dispatch(req);
    return result instanceof Promise ? result.then(add) : add(result);
  };
  return new Proxy(app, {
    get(target, property) {
      if (property === 'dispatch') return dispatch;
      const v: unknown = Reflect.get(target, property, target);
      if (typeof v !== 'function') return v;
      let fn = bound.get(property);
      if (fn === undefined) {
        fn = (v as (...args: unknown[]) => unknown).bind(target);
        bound.set(property, fn);
      }
      return fn;
    },
  });
}
