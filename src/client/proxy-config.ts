/**
 * Which HTTP proxy, if any, a request goes through. A proxy is reached either by forwarding (an
 * `http:` origin: the request goes to the proxy with its absolute-form target, RFC 9112 §3.2.2)
 * or through a tunnel (an `https:` origin: `CONNECT host:port`, RFC 9110 §9.3.6, then TLS to the
 * origin inside it). Credentials in the proxy URL become `Proxy-Authorization: Basic`
 * (RFC 9110 §11.7.2, RFC 7617). `NO_PROXY` follows the common convention: a comma or space
 * separated list of host names (matching the host and its subdomains), `.suffix` entries,
 * optional `:port`, IP addresses, and `*` for everything.
 */
import { Buffer } from 'node:buffer';
import { InvalidRequestError } from './client-errors.js';

/** Proxy settings of a client. */
export interface ProxyOptions {
  /** The proxy's URL, `http://[user:pass@]host:port` (or `https:` for a TLS connection to the proxy). */
  url: string | URL;
  /** Hosts reached directly, as in `NO_PROXY`. Default: none. */
  noProxy?: string | readonly string[];
  /** Extra header fields sent to the proxy (on CONNECT, and on forwarded requests). Default: none. */
  headers?: Readonly<Record<string, string>>;
}

/** A resolved proxy: where to connect and what to tell it. */
export interface ProxyTarget {
  /** The proxy's URL, without credentials. */
  readonly url: URL;
  /** `Proxy-Authorization` value, if the URL had credentials or the headers gave one. */
  readonly authorization: string | undefined;
  /** Extra fields, flattened `[name, value, ...]`. */
  readonly headers: readonly string[];
}

interface NoProxyRule {
  host: string;
  port: number;
}

/** Decides, per origin, whether and through which proxy to connect. */
export class ProxySelector {
  readonly #http: ProxyTarget | undefined;
  readonly #https: ProxyTarget | undefined;
  readonly #noProxy: NoProxyRule[];
  readonly #all: boolean;

  constructor(
    http: ProxyTarget | undefined,
    https: ProxyTarget | undefined,
    noProxy: string | readonly string[],
  ) {
    this.#http = http;
    this.#https = https;
    this.#noProxy = [];
    this.#all = false;
    const entries = typeof noProxy === 'string' ? noProxy.split(/[\s,]+/) : noProxy;
    for (const raw of entries) {
      const entry = raw.trim().toLowerCase();
      if (entry === '') continue;
      if (entry === '*') {
        this.#all = true;
        continue;
      }
      let host = entry;
      let port = 0;
      const colon = entry.lastIndexOf(':');
      if (colon > 0 && entry.indexOf(']') < colon && /^\d+$/.test(entry.slice(colon + 1))) {
        host = entry.slice(0, colon);
        port = Number(entry.slice(colon + 1));
      }
      if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
      if (host.startsWith('*.')) host = host.slice(1);
      this.#noProxy.push({ host, port });
    }
  }

  /** From explicit options (one proxy for both schemes). */
  static fromOptions(options: string | URL | ProxyOptions): ProxySelector {
    const o: ProxyOptions =
      typeof options === 'string' || options instanceof URL ? { url: options } : options;
    const target = proxyTarget(o.url, o.headers);
    return new ProxySelector(target, target, o.noProxy ?? []);
  }

  /** From `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (either case; lower case wins). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): ProxySelector {
    const http = env.http_proxy ?? env.HTTP_PROXY;
    const https = env.https_proxy ?? env.HTTPS_PROXY;
    const no = env.no_proxy ?? env.NO_PROXY ?? '';
    return new ProxySelector(
      http ? proxyTarget(http, undefined) : undefined,
      https ? proxyTarget(https, undefined) : undefined,
      no,
    );
  }

  /** The proxy for `url`, or undefined to connect directly. */
  select(url: URL): ProxyTarget | undefined {
    const target = url.protocol === 'https:' ? this.#https : this.#http;
    if (target === undefined || this.#all) return undefined;
    let host = url.hostname.toLowerCase();
    if (host.startsWith('[')) host = host.slice(1, -1);
    const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
    for (const rule of this.#noProxy) {
      if (rule.port !== 0 && rule.port !== port) continue;
      if (rule.host.startsWith('.')) {
        if (host.endsWith(rule.host) || host === rule.host.slice(1)) return undefined;
      } else if (host === rule.host || host.endsWith(`.${rule.host}`)) {
        return undefined;
      }
    }
    return target;
  }
}

/** Parses a proxy URL, moving its credentials into a `Proxy-Authorization` value. */
export function proxyTarget(
  input: string | URL,
  headers: Readonly<Record<string, string>> | undefined,
): ProxyTarget {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch (err) {
    throw new InvalidRequestError(`invalid proxy URL ${JSON.stringify(String(input))}`, '', err);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidRequestError(`unsupported proxy protocol ${url.protocol}: use http: or https:`);
  }
  let authorization: string | undefined;
  if (url.username !== '' || url.password !== '') {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    // RFC 7617 §2: base64 of user-id ":" password.
    authorization = `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
    url = new URL(url.href);
    url.username = '';
    url.password = '';
  }
  const flat: string[] = [];
  if (headers !== undefined) {
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === 'proxy-authorization') authorization = headers[name];
      else flat.push(name, headers[name]!);
    }
  }
  return { url, authorization, headers: flat };
}
