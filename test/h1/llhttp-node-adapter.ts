/**
 * An adapter that drives Node's own HTTP/1.1 parser (llhttp, through the internal `HTTPParser`
 * binding that `node:http` uses) with the same surface as our `H1Parser`: `execute(buf)` returns
 * the bytes consumed and throws on bad input, `finish()` signals end of input, `upgraded` tells
 * that the connection switched protocols. It lets the llhttp corpus loader be checked against
 * llhttp itself, and gives the benchmark its reference contender.
 *
 * The binding is reached through `require('node:_http_common').HTTPParser` (Node 20 to 24), falling back
 * to `process.binding('http_parser')`. Like `node:http`, it materialises method, URL, version,
 * header names and values as strings and copies body chunks into Buffers.
 */
import { createRequire } from 'node:module';
import type {
  H1MessageHead,
  H1ParserHandler,
  H1RequestHead,
  H1ResponseBody,
  H1ResponseHead,
} from '../../src/h1/h1-types.js';

/** The constructor and constants of Node's internal parser binding. */
interface NodeHttpParserClass {
  new (): NodeHttpParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
  kLenientNone?: number;
  kLenientHeaders?: number;
  kLenientChunkedLength?: number;
  kLenientKeepAlive?: number;
  kLenientTransferEncoding?: number;
  kLenientVersion?: number;
  kLenientDataAfterClose?: number;
  kLenientOptionalLFAfterCR?: number;
  kLenientOptionalCRLFAfterChunk?: number;
  kLenientOptionalCRBeforeLF?: number;
  kLenientSpacesAfterChunkSize?: number;
  kLenientHeaderValueRelaxed?: number;
  kLenientAll?: number;
}

/** An instance of the binding (its callbacks live on numbered slots). */
interface NodeHttpParser {
  [slot: number]: unknown;
  initialize(type: number, resource: object, maxHeaderSize?: number, lenient?: number): void;
  execute(buf: Buffer): number | (Error & { code?: string; reason?: string; bytesParsed?: number });
  finish(): undefined | (Error & { code?: string; reason?: string; bytesParsed?: number });
  close(): void;
  free(): void;
}

const require = createRequire(import.meta.url);

function loadBinding(): { HTTPParser: NodeHttpParserClass; methods: readonly string[] } {
  try {
    const common = require('node:_http_common') as { HTTPParser: NodeHttpParserClass; methods: string[] };
    if (typeof common.HTTPParser === 'function')
      return { HTTPParser: common.HTTPParser, methods: common.methods };
  } catch {
    // fall through to the legacy binding
  }
  const legacy = (process as unknown as { binding(name: string): unknown }).binding('http_parser') as {
    HTTPParser: NodeHttpParserClass;
    methods: string[];
  };
  return { HTTPParser: legacy.HTTPParser, methods: legacy.methods };
}

const binding = loadBinding();

/**
 * llhttp's method numbering (its public `llhttp_method` enum), which the binding reports instead
 * of the name. Node's exported `methods` list leaves out the RTSP methods and QUERY.
 */
const LLHTTP_METHODS: readonly string[] = [
  'DELETE',
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'COPY',
  'LOCK',
  'MKCOL',
  'MOVE',
  'PROPFIND',
  'PROPPATCH',
  'SEARCH',
  'UNLOCK',
  'BIND',
  'REBIND',
  'UNBIND',
  'ACL',
  'REPORT',
  'MKACTIVITY',
  'CHECKOUT',
  'MERGE',
  'M-SEARCH',
  'NOTIFY',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'PATCH',
  'PURGE',
  'MKCALENDAR',
  'LINK',
  'UNLINK',
  'SOURCE',
  'PRI',
  'DESCRIBE',
  'ANNOUNCE',
  'SETUP',
  'PLAY',
  'PAUSE',
  'TEARDOWN',
  'GET_PARAMETER',
  'SET_PARAMETER',
  'REDIRECT',
  'RECORD',
  'FLUSH',
  'QUERY',
];

/** Node's `HTTPParser` class. */
export const NodeHTTPParser: NodeHttpParserClass = binding.HTTPParser;

/** llhttp's version as Node reports it. */
export const llhttpVersion: string = process.versions.llhttp ?? 'unknown';

/**
 * llhttp's leniency flag for each llhttp corpus leniency name (`request-lenient-<name>`), or
 * undefined when this Node's binding does not expose it.
 */
export function llhttpLenientFlag(name: string): number | undefined {
  const P = NodeHTTPParser;
  const table: Record<string, number | undefined> = {
    headers: P.kLenientHeaders,
    'header-value-relaxed': P.kLenientHeaderValueRelaxed,
    'chunked-length': P.kLenientChunkedLength,
    'keep-alive': P.kLenientKeepAlive,
    'transfer-encoding': P.kLenientTransferEncoding,
    version: P.kLenientVersion,
    'data-after-close': P.kLenientDataAfterClose,
    'optional-lf-after-cr': P.kLenientOptionalLFAfterCR,
    'optional-cr-before-lf': P.kLenientOptionalCRBeforeLF,
    'optional-crlf-after-chunk': P.kLenientOptionalCRLFAfterChunk,
    'spaces-after-chunk-size': P.kLenientSpacesAfterChunkSize,
    all: P.kLenientAll,
  };
  return table[name];
}

/** An error reported by llhttp: `code` is llhttp's (`HPE_INVALID_METHOD`, ...). */
export class LlhttpError extends Error {
  readonly code: string;
  readonly reason: string;
  /** Offset in the whole input stream. */
  readonly offset: number;

  constructor(code: string, reason: string, offset: number) {
    super(`llhttp ${code}: ${reason} at offset ${offset}`);
    this.code = code;
    this.reason = reason;
    this.offset = offset;
  }
}

/** Options of {@link LlhttpNodeParser}. */
export interface LlhttpNodeParserOptions {
  /** llhttp leniency bit set (see {@link llhttpLenientFlag}). Default 0. */
  lenientFlags?: number;
  /** Header section limit in bytes. Default 0: Node's default (`http.maxHeaderSize`). */
  maxHeaderSize?: number;
}

const HEAD_NONE = 1; // llhttp: on_headers_complete returning 1 skips the body
const HEAD_TUNNEL = 2; // llhttp: returning 2 skips the body and treats the message as an upgrade

/**
 * Node's llhttp with the surface of `H1Parser`. Heads carry what the binding reports: for
 * requests method, URL, version, headers, keepAlive and upgrade; for responses status and reason
 * instead of method and URL. `protocol` is always `HTTP`, `contentLength` -1 and `chunked` false,
 * since the binding does not report them.
 */
export class LlhttpNodeParser<Head extends H1MessageHead = H1MessageHead> {
  upgraded = false;
  private readonly parser: NodeHttpParser;
  private readonly kind: 'request' | 'response';
  private readonly handler: H1ParserHandler<Head>;
  private streamOffset = 0;
  private failure: LlhttpError | null = null;
  private pendingHeaders: string[] = [];
  private pendingUrl = '';
  private headDone = false;
  private upgradeAfterMessage = false;

  constructor(
    kind: 'request' | 'response',
    handler: H1ParserHandler<Head>,
    options: LlhttpNodeParserOptions = {},
  ) {
    this.kind = kind;
    this.handler = handler;
    const P = NodeHTTPParser;
    const parser = new P();
    this.parser = parser;
    parser[P.kOnMessageBegin] = () => {
      this.headDone = false;
      this.pendingHeaders = [];
      this.pendingUrl = '';
    };
    parser[P.kOnHeaders] = (headers: string[], url: string) => {
      if (this.headDone) {
        // After the head, the binding reports the trailer section here.
        this.handler.onTrailers(headers);
      } else {
        for (const h of headers) this.pendingHeaders.push(h);
        this.pendingUrl += url;
      }
    };
    parser[P.kOnHeadersComplete] = (
      versionMajor: number,
      versionMinor: number,
      headers: string[] | undefined,
      method: number | undefined,
      url: string | undefined,
      statusCode: number | undefined,
      statusMessage: string | undefined,
      upgrade: boolean,
      shouldKeepAlive: boolean,
    ): number =>
      this.headersComplete(
        versionMajor,
        versionMinor,
        headers,
        method,
        url,
        statusCode,
        statusMessage,
        upgrade,
        shouldKeepAlive,
      );
    parser[P.kOnBody] = (chunk: Buffer) => this.handler.onBody(chunk);
    parser[P.kOnMessageComplete] = () => {
      this.handler.onMessageComplete();
      if (this.upgradeAfterMessage) this.upgraded = true;
    };
    parser[P.kOnExecute] = () => {};
    parser.initialize(
      kind === 'request' ? P.REQUEST : P.RESPONSE,
      {},
      options.maxHeaderSize ?? 0,
      options.lenientFlags ?? 0,
    );
  }

  private headersComplete(
    versionMajor: number,
    versionMinor: number,
    headers: string[] | undefined,
    method: number | undefined,
    url: string | undefined,
    statusCode: number | undefined,
    statusMessage: string | undefined,
    upgrade: boolean,
    shouldKeepAlive: boolean,
  ): number {
    this.headDone = true;
    // Headers beyond the binding's batch size arrive earlier through kOnHeaders.
    let allHeaders: string[];
    if (this.pendingHeaders.length === 0) allHeaders = headers ?? [];
    else allHeaders = headers === undefined ? this.pendingHeaders : this.pendingHeaders.concat(headers);
    this.pendingHeaders = [];
    // Plain object literals: object spread is several times slower in a callback from C++.
    let head: H1MessageHead;
    if (this.kind === 'request') {
      const request: H1RequestHead = {
        protocol: 'HTTP',
        versionMajor,
        versionMinor,
        headers: allHeaders,
        contentLength: -1,
        chunked: false,
        keepAlive: shouldKeepAlive,
        upgrade,
        method:
          method === undefined ? '' : (LLHTTP_METHODS[method] ?? binding.methods[method] ?? String(method)),
        url: this.pendingUrl === '' ? (url ?? '') : this.pendingUrl + (url ?? ''),
        expectContinue: false,
        hostCount: 0,
        host: '',
      };
      head = request;
    } else {
      const response: H1ResponseHead = {
        protocol: 'HTTP',
        versionMajor,
        versionMinor,
        headers: allHeaders,
        contentLength: -1,
        chunked: false,
        keepAlive: shouldKeepAlive,
        upgrade,
        status: statusCode ?? 0,
        reason: statusMessage ?? '',
      };
      head = response;
    }
    this.upgradeAfterMessage = upgrade;
    const result = this.handler.onHead(head as Head) as H1ResponseBody | undefined;
    if (result === 1) return HEAD_NONE;
    if (result === 2) {
      this.upgradeAfterMessage = true;
      return HEAD_TUNNEL;
    }
    return 0;
  }

  /** Parses `buf`; returns the bytes consumed (less than `buf.length` only after an upgrade). */
  execute(buf: Buffer): number {
    if (this.failure !== null) throw this.failure;
    if (this.upgraded) return 0;
    const start = this.streamOffset;
    const ret = this.parser.execute(buf);
    if (typeof ret === 'number') {
      this.streamOffset += ret;
      if (ret < buf.length && !this.upgraded) this.upgraded = true;
      return ret;
    }
    const parsed = ret.bytesParsed ?? 0;
    if (ret.code === 'HPE_PAUSED_H2_UPGRADE' || ret.code === 'HPE_PAUSED_UPGRADE') {
      this.upgraded = true;
      this.streamOffset += parsed;
      return parsed;
    }
    this.failure = new LlhttpError(ret.code ?? 'HPE_UNKNOWN', ret.reason ?? ret.message, start + parsed);
    throw this.failure;
  }

  /** End of input: completes a close-delimited message or throws when input ended mid-message. */
  finish(): void {
    if (this.failure !== null || this.upgraded) return;
    const ret = this.parser.finish();
    if (ret !== undefined && ret !== null) {
      this.failure = new LlhttpError(ret.code ?? 'HPE_UNKNOWN', ret.reason ?? ret.message, this.streamOffset);
      throw this.failure;
    }
  }

  /** Releases the native parser. */
  close(): void {
    this.parser.close();
  }
}
