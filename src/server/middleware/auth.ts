/**
 * HTTP authentication middleware (RFC 9110 §11): the "Basic" scheme (RFC 7617) and "Bearer"
 * tokens (RFC 6750 §2.1). Credentials are checked before the rest of the chain runs; a request
 * without valid credentials gets a 401 with a `WWW-Authenticate` challenge (RFC 9110 §11.6.1)
 * and never reaches the handler. The challenge is returned as a response rather than thrown,
 * so middleware placed outside (CORS, logging) sees it like any other response.
 *
 * Fixed secrets (`users`, `token`) are compared with `crypto.timingSafeEqual` over SHA-256
 * digests: constant time, whatever the lengths, and every configured entry is compared on each
 * request so the time does not reveal which user name exists.
 */
import { Buffer } from 'node:buffer';
import type { Middleware, Next } from '../handler.js';
import type { Request } from '../request.js';
import { Response } from '../response.js';
import { matchesSecret, secretDigest } from './constant-time-equal.js';

/** Options of {@link basicAuth}: give `users` or `verify` (if both, `verify` runs when `users` does not match). */
export interface BasicAuthOptions {
  /** User name -> password. */
  users?: Readonly<Record<string, string>>;
  /** Decides on other credentials; may be async. */
  verify?: (user: string, password: string, req: Request) => boolean | Promise<boolean>;
  /** The protection space named in the challenge (RFC 9110 §11.5). Default `'Restricted'`. */
  realm?: string;
}

/** Options of {@link bearerAuth}: give `token` or `verify` (if both, `verify` runs when `token` does not match). */
export interface BearerAuthOptions {
  /** The accepted token, or several. */
  token?: string | readonly string[];
  /** Decides on other tokens; may be async. */
  verify?: (token: string, req: Request) => boolean | Promise<boolean>;
  /** The protection space named in the challenge (RFC 6750 §3). Default `'Restricted'`. */
  realm?: string;
}

/** `value` as an RFC 9110 §5.6.4 quoted-string. */
function quoted(value: string): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    out += c === '"' || c === '\\' ? `\\${c}` : c;
  }
  return `${out}"`;
}

/** The credentials part of `Authorization: <scheme> <credentials>` when the scheme matches (any case). */
function credentialsFor(req: Request, scheme: string): string | undefined {
  const field = req.headers.get('authorization');
  if (field === undefined || field.length <= scheme.length || field.charCodeAt(scheme.length) !== 0x20) {
    return undefined;
  }
  if (field.slice(0, scheme.length).toLowerCase() !== scheme) return undefined;
  let start = scheme.length + 1;
  while (start < field.length && field.charCodeAt(start) === 0x20) start++;
  return field.slice(start);
}

function challenge(status: number, value: string, body: string): Response {
  return Response.text(body, { status, headers: { 'www-authenticate': value } });
}

/** 1 for the characters of RFC 7235 token68 (`A-Z a-z 0-9 - . _ ~ + /`, then `=` padding). */
const TOKEN68 = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/')
  TOKEN68[c.charCodeAt(0)] = 1;

function isToken68(value: string): boolean {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === 0x3d /* = */) end--;
  if (end === 0) return false;
  for (let i = 0; i < end; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || TOKEN68[c] === 0) return false;
  }
  return true;
}

/**
 * HTTP Basic authentication (RFC 7617). On success the user name is in `req.locals.user`.
 * Failure: 401 with `WWW-Authenticate: Basic realm="<realm>", charset="UTF-8"` (RFC 7617 §2.1;
 * credentials are decoded as UTF-8). Default realm `'Restricted'`. Throws a TypeError at setup
 * when neither `users` nor `verify` is given.
 */
export function basicAuth(options: BasicAuthOptions): Middleware {
  if (options.users === undefined && options.verify === undefined) {
    throw new TypeError('basicAuth needs `users` or `verify`');
  }
  const entries = Object.entries(options.users ?? {}).map(([user, password]) => ({
    user: secretDigest(user),
    password: secretDigest(password),
  }));
  const verify = options.verify;
  const header = `Basic realm=${quoted(options.realm ?? 'Restricted')}, charset="UTF-8"`;

  return async function basicAuthMiddleware(req: Request, next: Next): Promise<Response> {
    const credentials = credentialsFor(req, 'basic');
    if (credentials === undefined || !isToken68(credentials)) return challenge(401, header, 'Unauthorized');
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return challenge(401, header, 'Unauthorized');
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    let ok = false;
    for (const entry of entries) {
      // Both comparisons always run: `&&` would skip the password for unknown users.
      const userOk = matchesSecret(user, entry.user);
      const passwordOk = matchesSecret(password, entry.password);
      if (userOk && passwordOk) ok = true;
    }
    if (!ok && verify !== undefined) ok = (await verify(user, password, req)) === true;
    if (!ok) return challenge(401, header, 'Unauthorized');
    req.locals.user = user;
    return next();
  };
}

/**
 * Bearer token authentication (RFC 6750 §2.1, `Authorization: Bearer <token>`). On success the
 * token is in `req.locals.token`. Failures (RFC 6750 §3): no credentials -> 401 with
 * `WWW-Authenticate: Bearer realm="<realm>"`; a malformed Authorization field -> 400 with
 * `error="invalid_request"`; an unknown token -> 401 with `error="invalid_token"`.
 * Default realm `'Restricted'`. Throws a TypeError at setup when neither `token` nor `verify` is given.
 */
export function bearerAuth(options: BearerAuthOptions): Middleware {
  if (options.token === undefined && options.verify === undefined) {
    throw new TypeError('bearerAuth needs `token` or `verify`');
  }
  const tokens = (typeof options.token === 'string' ? [options.token] : (options.token ?? [])).map(
    secretDigest,
  );
  const verify = options.verify;
  const realm = `Bearer realm=${quoted(options.realm ?? 'Restricted')}`;
  const missing = realm;
  const invalidRequest = `${realm}, error="invalid_request", error_description="malformed Authorization field"`;
  const invalidToken = `${realm}, error="invalid_token", error_description="the access token is not valid"`;

  return async function bearerAuthMiddleware(req: Request, next: Next): Promise<Response> {
    if (!req.headers.has('authorization')) return challenge(401, missing, 'Unauthorized');
    const token = credentialsFor(req, 'bearer');
    if (token === undefined) return challenge(401, missing, 'Unauthorized'); // another scheme
    if (!isToken68(token)) return challenge(400, invalidRequest, 'Bad Request');
    let ok = false;
    for (const digest of tokens) if (matchesSecret(token, digest)) ok = true;
    if (!ok && verify !== undefined) ok = (await verify(token, req)) === true;
    if (!ok) return challenge(401, invalidToken, 'Unauthorized');
    req.locals.token = token;
    return next();
  };
}
