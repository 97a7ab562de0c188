/**
 * Alternative services (RFC 7838): how an origin says "I am also reachable over h3 at this
 * host and port", the way HTTP/3 is discovered (RFC 9114 §3.1.1). This file parses the
 * `Alt-Svc` field and keeps, per origin, the alternatives still fresh, for the client to try.
 *
 * - Field (§3): `clear`, or a list of `protocol-id="[host]:port"` with optional `ma` (freshness
 *   in seconds, default 24 hours, §3.1) and `persist=1` parameters. The protocol id is a
 *   percent-encoded ALPN token (`h3`, `h3-29`), the authority a quoted string whose host may be
 *   empty (the origin's host). Malformed members are skipped, not the whole field.
 * - Cache (§2.2, §3.1): a new field replaces what the origin advertised before; `clear` drops
 *   everything; entries expire after `ma`. Bounded: at most `maxOrigins` origins, the least
 *   recently updated forgotten first, and at most 8 alternatives per origin.
 * - Only alternatives for an `https` origin are kept: RFC 7838 §2.1 requires the alternative to
 *   present a certificate for the origin, which a cleartext origin cannot ask for.
 */

/** One alternative service. */
export interface AltSvcEntry {
  /** The ALPN protocol id, percent-decoded (`h3`). */
  readonly protocol: string;
  /** The host, or `''` for the origin's own host. */
  readonly host: string;
  readonly port: number;
  /** Freshness lifetime in seconds (`ma`, default 86 400). */
  readonly maxAge: number;
  /** `persist=1`: keep across network changes. */
  readonly persist: boolean;
}

/** The parsed field: `clear`, or the alternatives listed (possibly none). */
export type AltSvcField = 'clear' | AltSvcEntry[];

const DEFAULT_MAX_AGE = 86_400;
const MAX_PER_ORIGIN = 8;

/** RFC 9110 §5.6.2 tchar. */
function isTchar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x21 ||
    (c >= 0x23 && c <= 0x27) ||
    c === 0x2a ||
    c === 0x2b ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5e ||
    c === 0x5f ||
    c === 0x60 ||
    c === 0x7c ||
    c === 0x7e
  );
}

/** A small cursor over the field value. */
class FieldCursor {
  i = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.i >= this.s.length;
  }
  peek(): number {
    return this.s.charCodeAt(this.i);
  }
  skipSpace(): void {
    while (!this.done && (this.peek() === 0x20 || this.peek() === 0x09)) this.i++;
  }
  token(): string {
    const start = this.i;
    while (!this.done && isTchar(this.peek())) this.i++;
    return this.s.slice(start, this.i);
  }
  /** A quoted-string (RFC 9110 §5.6.4) with its escapes undone, or undefined. */
  quoted(): string | undefined {
    if (this.peek() !== 0x22) return undefined;
    this.i++;
    let out = '';
    while (!this.done) {
      const c = this.peek();
      if (c === 0x22) {
        this.i++;
        return out;
      }
      if (c === 0x5c) {
        this.i++;
        if (this.done) return undefined;
      }
      out += this.s[this.i];
      this.i++;
    }
    return undefined;
  }
  /** Skips to just after the next top-level `,` (or the end). */
  skipMember(): void {
    while (!this.done) {
      const c = this.peek();
      if (c === 0x2c) {
        this.i++;
        return;
      }
      if (c === 0x22) {
        if (this.quoted() === undefined) return;
      } else this.i++;
    }
  }
}

/** `[host]:port` of an alt-authority (§3), or undefined. */
function parseAuthority(text: string): { host: string; port: number } | undefined {
  const colon = text.lastIndexOf(':');
  if (colon === -1) return undefined;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) return undefined;
    host = host.slice(1, -1);
  }
  // RFC 3986 §3.2.2: a reg-name or an IP literal's contents; anything else is no host.
  if (!/^[A-Za-z0-9._~%!$&'()*+,;=:-]*$/.test(host)) return undefined;
  return { host, port };
}

/** Parses an `Alt-Svc` field value (see the file comment). */
export function parseAltSvc(value: string): AltSvcField {
  const trimmed = value.trim();
  if (trimmed === 'clear') return 'clear';
  const entries: AltSvcEntry[] = [];
  const c = new FieldCursor(value);
  while (!c.done) {
    c.skipSpace();
    if (c.done) break;
    const id = c.token();
    if (id === '' || c.peek() !== 0x3d /* = */) {
      c.skipMember();
      continue;
    }
    c.i++;
    const authority = c.quoted();
    let protocol: string;
    try {
      protocol = decodeURIComponent(id);
    } catch {
      c.skipMember();
      continue;
    }
    const parsed = authority === undefined ? undefined : parseAuthority(authority);
    let maxAge = DEFAULT_MAX_AGE;
    let persist = false;
    let ok = parsed !== undefined;
    // Parameters: *( OWS ";" OWS token "=" ( token / quoted-string ) )
    for (;;) {
      c.skipSpace();
      if (c.done || c.peek() !== 0x3b /* ; */) break;
      c.i++;
      c.skipSpace();
      const name = c.token().toLowerCase();
      if (c.peek() !== 0x3d) {
        ok = false;
        break;
      }
      c.i++;
      const v = c.peek() === 0x22 ? c.quoted() : c.token();
      if (v === undefined) {
        ok = false;
        break;
      }
      if (name === 'ma') {
        if (!/^[0-9]+$/.test(v)) ok = false;
        else maxAge = Math.min(Number(v), 2_147_483_647);
      } else if (name === 'persist') {
        persist = v === '1';
      }
    }
    c.skipSpace();
    if (!c.done && c.peek() !== 0x2c) ok = false;
    c.skipMember();
    if (ok && parsed !== undefined)
      entries.push({ protocol, host: parsed.host, port: parsed.port, maxAge, persist });
  }
  return entries;
}

/** An alternative with the time it stops being fresh. */
interface StoredAlternative {
  readonly entry: AltSvcEntry;
  /** ms since the epoch. */
  readonly expires: number;
}

/** Options of {@link AltSvcCache}. */
export interface AltSvcCacheOptions {
  /** Origins remembered. Default 1000. */
  maxOrigins?: number;
  /** The clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/** The alternatives origins advertised, per origin (see the file comment). */
export class AltSvcCache {
  readonly #origins = new Map<string, StoredAlternative[]>();
  readonly #maxOrigins: number;
  readonly #now: () => number;

  constructor(options: AltSvcCacheOptions = {}) {
    this.#maxOrigins = options.maxOrigins ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Origins held. */
  get size(): number {
    return this.#origins.size;
  }

  /** Notes the `Alt-Svc` field an origin (`https://host:port`) sent. */
  update(origin: string, fieldValue: string): void {
    if (!origin.startsWith('https://')) return;
    const field = parseAltSvc(fieldValue);
    this.#origins.delete(origin);
    if (field === 'clear') return;
    const now = this.#now();
    const kept: StoredAlternative[] = [];
    for (const entry of field) {
      if (kept.length === MAX_PER_ORIGIN) break;
      if (entry.maxAge > 0) kept.push({ entry, expires: now + entry.maxAge * 1000 });
    }
    if (kept.length === 0) return;
    if (this.#origins.size >= this.#maxOrigins)
      this.#origins.delete(this.#origins.keys().next().value as string);
    this.#origins.set(origin, kept);
  }

  /** The fresh alternatives of `origin` speaking `protocol` (e.g. `h3`), in the order advertised. */
  lookup(origin: string, protocol: string): AltSvcEntry[] {
    const stored = this.#origins.get(origin);
    if (stored === undefined) return [];
    const now = this.#now();
    const out: AltSvcEntry[] = [];
    let stale = false;
    for (const alt of stored) {
      if (alt.expires <= now) stale = true;
      else if (alt.entry.protocol === protocol) out.push(alt.entry);
    }
    if (stale) {
      const fresh = stored.filter((alt) => alt.expires > now);
      if (fresh.length === 0) this.#origins.delete(origin);
      else this.#origins.set(origin, fresh);
    }
    return out;
  }

  /** Forgets `origin`'s alternatives (one failed: RFC 7838 §2.4 lets a client stop using it). */
  forget(origin: string): void {
    this.#origins.delete(origin);
  }
}
