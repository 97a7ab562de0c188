/**
 * Sans-I/O HTTP/1.1 message parser for requests and responses (RFC 9112).
 *
 * The parser is an explicit, resumable byte state machine: `execute(chunk)` may be called with
 * input split anywhere and reports the same events as for the whole input, because no state
 * lives in the position of chunk boundaries. Runs of bytes are scanned in tight loops over the
 * classification tables of `core/char-classes`; strings are made once per field (latin1, so
 * octets survive unchanged) and common header names are interned.
 *
 * Implements: start lines (§3, §4), field syntax (§5), message body length (§6.3), chunked
 * transfer coding with extensions and trailers (§7.1), persistence (§9.3), and the
 * request-smuggling defences of §6.1 and §11.2. It owns no socket and no timer.
 */
import { Buffer } from 'node:buffer';
import { FIELD_VALUE_CHARS, HEX_VALUES, TARGET_CHARS, TOKEN_CHARS } from '../core/char-classes.js';
import { latin1 } from '../core/latin1.js';
import { isKnownMethod } from '../core/method.js';
import { scanFieldValue } from './field-value-scan.js';
import {
  COMMON_HEADER_KINDS,
  COMMON_HEADER_LENGTHS,
  COMMON_HEADER_NAMES,
  COMMON_HEADER_REPEAT_SLOTS,
  classifyHeaderName,
  findCommonHeaderName,
  HeaderKind,
  internHeaderNameString,
  matchCommonHeaderName,
  REPEAT_SLOT_COUNT,
} from './h1-header-names.js';
import { H1ParseError, type H1ParseErrorCode } from './h1-parse-error.js';
import {
  type H1MessageHead,
  type H1ParserHandler,
  type H1ParserOptions,
  type H1RequestHead,
  H1ResponseBody,
  type H1ResponseHead,
} from './h1-types.js';

const enum State {
  MessageStart,
  StartLf,
  Method,
  Target,
  Protocol,
  VersionMajor,
  VersionDot,
  VersionMinor,
  VersionEnd,
  StatusCode,
  StatusSpace,
  Reason,
  LineLf,
  FieldStart,
  FieldName,
  FieldValueLeadingWs,
  FieldValue,
  FieldValueLf,
  HeadEndLf,
  BodyLength,
  BodyUntilClose,
  ChunkSizeStart,
  ChunkSize,
  ChunkSizeWs,
  ChunkExtBeforeName,
  ChunkExtName,
  ChunkExtAfterName,
  ChunkExtBeforeValue,
  ChunkExtValue,
  ChunkExtQuoted,
  ChunkExtQuotedEscape,
  ChunkExtAfterQuoted,
  ChunkSizeLf,
  ChunkData,
  ChunkDataCr,
  ChunkDataLf,
  PrefaceTail,
  Closed,
  Upgraded,
  Failed,
}

const enum Body {
  None,
  Length,
  Chunked,
  UntilClose,
}

/**
 * Longest value compared against the previous message's in a repeat slot; longer ones (rare
 * for Host and User-Agent) are cut anew.
 */
const MAX_REPEATED_LENGTH = 512;
/** Per repeat slot, process-wide: the last value made, its bytes and their length (-1: none). */
const repeatedValues: string[] = new Array<string>(REPEAT_SLOT_COUNT).fill('');
const repeatedBytes: Buffer[] = Array.from({ length: REPEAT_SLOT_COUNT }, () =>
  Buffer.alloc(MAX_REPEATED_LENGTH),
);
const repeatedLengths = new Int32Array(REPEAT_SLOT_COUNT).fill(-1);
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const SEMI = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const DOT = 0x2e;
/** CRLF CRLF: the end of a header section (RFC 9112 §2.1). */
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
/** What follows `PRI * HTTP/2.0` CRLF CRLF in the HTTP/2 preface (RFC 9113 §3.4). */
const PREFACE_TAIL = Buffer.from('SM\r\n\r\n', 'latin1');

/** Largest chunk size or Content-Length we accept: 2^53 - 1, the largest exact JS integer. */
const MAX_LENGTH = Number.MAX_SAFE_INTEGER;

/** RTSP methods llhttp accepts after `RTSP/x.y` (RFC 7826 §13 plus GET/POST tunnelling). */
const RTSP_METHODS = new Set([
  'OPTIONS',
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
  'GET',
  'POST',
]);

type ParserKind = 'request' | 'response';

/**
 * Incremental HTTP/1.1 parser. One instance parses one direction of one connection: requests
 * (`'request'`) on a server, responses (`'response'`) on a client, message after message.
 */
export class H1Parser<Head extends H1MessageHead = H1RequestHead | H1ResponseHead> {
  /** True once a message switched protocols; later bytes belong to the new protocol. */
  upgraded = false;
  /**
   * True when the switch was the HTTP/2 connection preface (`PRI * HTTP/2.0 ... SM ...`,
   * RFC 9113 §3.4), which was consumed whole: an HTTP/2 server continues with SETTINGS.
   */
  http2Preface = false;

  private readonly isRequest: boolean;
  private readonly handler: H1ParserHandler<Head>;
  private readonly maxHeaderBytes: number;
  private readonly maxHeaderCount: number;
  private readonly maxUriLength: number;
  private readonly maxChunkExtensionBytes: number;
  private readonly acceptAnyMethod: boolean;
  // Leniencies, flattened to booleans for the hot path.
  private readonly lenientHeaders: boolean;
  private readonly lenientValueRelaxed: boolean;
  private readonly lenientChunkedLength: boolean;
  private readonly lenientKeepAlive: boolean;
  private readonly lenientTransferEncoding: boolean;
  private readonly lenientVersion: boolean;
  private readonly lenientDataAfterClose: boolean;
  private readonly lenientOptionalLf: boolean;
  private readonly lenientOptionalCr: boolean;
  private readonly lenientChunkCrlf: boolean;
  private readonly lenientChunkSpaces: boolean;

  private state: State = State.MessageStart;
  /** Stream offset of the first byte of the buffer being executed. */
  private base = 0;
  private error: H1ParseError | undefined;

  // Span carried across `execute` calls (method, target, reason, field name or value).
  private spanStart = 0;
  private partial = '';
  /**
   * When a whole head lies in the current buffer it is decoded once into `headText` (which
   * starts at buffer index `headTextStart`), and spans are cut from it: one native call per
   * head instead of one per field.
   */
  private headText = '';
  private headTextStart = 0;
  private headTextEnd = 0;
  private view: DataView | undefined;
  private viewBuffer: Buffer | undefined;

  // The message being parsed.
  private headStart = 0;
  private inTrailers = false;
  private method = '';
  private url = '';
  private protocol = '';
  private versionMajor = 0;
  private versionMinor = 0;
  private status = 0;
  private reason = '';
  private fields: string[] = [];
  private fieldName = '';
  private fieldKind: HeaderKind = HeaderKind.Other;
  /** No leniency touches line syntax, so the whole-line fast paths may run. */
  private readonly fast: boolean;
  private contentLength = -1;
  private transferEncoding = false;
  /** The final transfer coding seen so far is chunked. */
  private chunked = false;
  /** chunked appeared in an earlier Transfer-Encoding field line. */
  private sawChunkedBefore = false;
  private connectionClose = false;
  private connectionKeepAlive = false;
  private connectionUpgrade = false;
  private upgradeHeader = false;
  private expectContinue = false;
  /** Host field lines of the head, and the last one's value (RFC 9112 §3.2). */
  private hostCount = 0;
  private host = '';
  private keepAlive = true;
  private upgrade = false;
  private remaining = 0;
  private chunkExtBytes = 0;
  /** Line ending states return here after LF. */
  private afterLf: State = State.FieldStart;

  constructor(kind: ParserKind, handler: H1ParserHandler<Head>, options: H1ParserOptions = {}) {
    this.isRequest = kind === 'request';
    this.handler = handler;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 16384;
    this.maxHeaderCount = options.maxHeaderCount ?? 100;
    this.maxUriLength = options.maxUriLength ?? 8192;
    this.maxChunkExtensionBytes = options.maxChunkExtensionBytes ?? 16384;
    this.acceptAnyMethod = options.acceptAnyMethod ?? false;
    const l = options.lenient ?? {};
    this.lenientHeaders = l.headers ?? false;
    this.lenientValueRelaxed = this.lenientHeaders || (l.headerValueRelaxed ?? false);
    this.lenientChunkedLength = l.chunkedLength ?? false;
    this.lenientKeepAlive = l.keepAlive ?? false;
    this.lenientTransferEncoding = l.transferEncoding ?? false;
    this.lenientVersion = l.version ?? false;
    this.lenientDataAfterClose = l.dataAfterClose ?? false;
    this.lenientOptionalLf = l.optionalLfAfterCr ?? false;
    this.lenientOptionalCr = l.optionalCrBeforeLf ?? false;
    this.lenientChunkCrlf = l.optionalCrlfAfterChunk ?? false;
    this.lenientChunkSpaces = l.spacesAfterChunkSize ?? false;
    this.fast =
      !this.lenientValueRelaxed && !this.lenientOptionalLf && !this.lenientOptionalCr && !this.lenientVersion;
  }

  /** A request parser (server side). */
  static request(
    handler: H1ParserHandler<H1RequestHead>,
    options?: H1ParserOptions,
  ): H1Parser<H1RequestHead> {
    return new H1Parser<H1RequestHead>('request', handler, options);
  }

  /** A response parser (client side). */
  static response(
    handler: H1ParserHandler<H1ResponseHead>,
    options?: H1ParserOptions,
  ): H1Parser<H1ResponseHead> {
    return new H1Parser<H1ResponseHead>('response', handler, options);
  }

  /** True while a message has started but not completed. */
  get inMessage(): boolean {
    return this.state !== State.MessageStart && this.state !== State.Closed && this.state !== State.Upgraded;
  }

  /** Forget all state, as if newly constructed with the same handler and options. */
  reset(): void {
    this.state = State.MessageStart;
    this.base = 0;
    this.error = undefined;
    this.upgraded = false;
    this.http2Preface = false;
    this.partial = '';
    this.resetMessage();
  }

  /**
   * Parse `chunk`. Returns the number of bytes consumed: all of them, unless a message
   * switched protocols, in which case the rest belongs to the new protocol and
   * {@link upgraded} is true. Throws {@link H1ParseError} on malformed input; the parser then
   * stays failed.
   */
  execute(chunk: Buffer): number {
    if (this.state === State.Failed) throw this.error!;
    if (this.state === State.Upgraded) return 0;
    const n = chunk.length;
    let i = 0;
    try {
      i = this.run(chunk, 0, n);
    } catch (err) {
      if (err instanceof H1ParseError) throw err;
      // A handler threw: the parser cannot know where it stands, so it fails closed.
      this.state = State.Failed;
      this.error = new H1ParseError(
        'AVX_H1_PARSER_FAILED',
        `handler threw: ${String(err)}`,
        400,
        this.base + i,
      );
      throw err;
    }
    this.headText = '';
    if (i === n) {
      this.carrySpan(chunk, n);
      this.checkHeadLimit(n);
    }
    this.base += i;
    return i;
  }

  /**
   * The input ended (the peer closed its side). Completes a body delimited by the connection
   * closing (RFC 9112 §6.3 rule 8); throws `AVX_H1_UNEXPECTED_EOF` if a message is cut short.
   */
  finish(): void {
    if (this.state === State.Failed) throw this.error!;
    switch (this.state) {
      case State.MessageStart:
      case State.Closed:
      case State.Upgraded:
        return;
      case State.BodyUntilClose:
        this.state = State.Closed;
        this.handler.onMessageComplete();
        return;
      default:
        throw this.fail('AVX_H1_UNEXPECTED_EOF', 'the input ended in the middle of a message', 400, 0);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The state machine. Returns the index at which it stopped (n, or less after an upgrade).

  private run(buf: Buffer, i: number, n: number): number {
    while (i < n) {
      switch (this.state) {
        case State.MessageStart: {
          const c = buf[i];
          // RFC 9112 §2.2: ignore empty lines received before a start line.
          if (c === CR || c === LF) {
            i++;
            continue;
          }
          this.headStart = this.base + i;
          this.spanStart = i;
          const end = buf.indexOf(HEAD_END, i);
          if (end !== -1) {
            this.headTextEnd = end + 4;
            this.headText = latin1(buf, i, this.headTextEnd);
            this.headTextStart = i;
            if (this.fast) {
              const next = this.isRequest ? this.fastRequestLine(buf, i) : this.fastStatusLine(buf, i);
              if (next !== -1) {
                i = next;
                this.state = State.FieldStart;
                continue;
              }
            }
          }
          this.state = this.isRequest ? State.Method : State.Protocol;
          continue;
        }

        case State.Method: {
          while (i < n && TOKEN_CHARS[buf[i]] === 1) i++;
          if (i === n) break;
          if (buf[i] !== SP || (i === this.spanStart && this.partial === '')) {
            throw this.fail(
              'AVX_H1_INVALID_METHOD',
              'the method must be a token followed by one space (RFC 9112 §3)',
              400,
              i,
            );
          }
          this.method = this.takeMethod(buf, i);
          i++;
          this.spanStart = i;
          this.state = State.Target;
          continue;
        }

        case State.Target: {
          while (i < n && TARGET_CHARS[buf[i]] === 1) i++;
          if (i - this.spanStart + this.partial.length > this.maxUriLength) {
            throw this.fail(
              'AVX_H1_URI_TOO_LONG',
              `the request-target exceeds ${this.maxUriLength} bytes`,
              414,
              i,
            );
          }
          if (i === n) break;
          if (buf[i] === CR && (i > this.spanStart || this.partial !== '')) {
            // An HTTP/0.9 request line has no version: "GET /path" CRLF (RFC 1945 §4.1).
            this.url = this.takeSpan(buf, i);
            this.protocol = '';
            this.versionMajor = 0;
            this.versionMinor = 9;
            this.checkMethodForProtocol(i);
            i++;
            this.afterLf = State.FieldStart;
            this.state = State.LineLf;
            continue;
          }
          if (buf[i] !== SP || (i === this.spanStart && this.partial === '')) {
            throw this.fail(
              'AVX_H1_INVALID_TARGET',
              'the request-target must be visible characters followed by one space (RFC 9112 §3.2)',
              400,
              i,
            );
          }
          this.url = this.takeSpan(buf, i);
          i++;
          this.spanStart = i;
          this.state = State.Protocol;
          continue;
        }

        case State.Protocol: {
          // "HTTP" (or RTSP / ICE) then "/", matched byte by byte so a split anywhere works.
          const c = buf[i];
          if (c >= 0x41 && c <= 0x5a && this.partial.length + i - this.spanStart < 4) {
            i++;
            continue;
          }
          if (c !== SLASH) {
            throw this.fail(
              'AVX_H1_INVALID_VERSION',
              'expected HTTP/ in the start line (RFC 9112 §2.3)',
              400,
              i,
            );
          }
          const protocol = this.takeSpan(buf, i);
          if (protocol !== 'HTTP' && protocol !== 'RTSP' && protocol !== 'ICE') {
            throw this.fail(
              'AVX_H1_INVALID_VERSION',
              'expected HTTP/ in the start line (RFC 9112 §2.3)',
              400,
              i,
            );
          }
          this.protocol = protocol;
          i++;
          this.state = State.VersionMajor;
          continue;
        }

        case State.VersionMajor: {
          const c = buf[i];
          if (c < 0x30 || c > 0x39) {
            throw this.fail(
              'AVX_H1_INVALID_VERSION',
              'the HTTP version must be DIGIT "." DIGIT (RFC 9112 §2.3)',
              400,
              i,
            );
          }
          this.versionMajor = c - 0x30;
          i++;
          this.state = State.VersionDot;
          continue;
        }

        case State.VersionDot:
          if (buf[i] !== DOT) {
            throw this.fail(
              'AVX_H1_INVALID_VERSION',
              'the HTTP version must be DIGIT "." DIGIT (RFC 9112 §2.3)',
              400,
              i,
            );
          }
          i++;
          this.state = State.VersionMinor;
          continue;

        case State.VersionMinor: {
          const c = buf[i];
          if (c < 0x30 || c > 0x39) {
            throw this.fail(
              'AVX_H1_INVALID_VERSION',
              'the HTTP version must be DIGIT "." DIGIT (RFC 9112 §2.3)',
              400,
              i,
            );
          }
          this.versionMinor = c - 0x30;
          i++;
          this.checkVersion(i);
          this.state = State.VersionEnd;
          continue;
        }

        case State.VersionEnd: {
          const c = buf[i];
          if (this.isRequest) {
            if (c === CR) {
              i++;
              this.afterLf = State.FieldStart;
              this.state = State.LineLf;
              continue;
            }
            if (c === LF && this.lenientOptionalCr) {
              i++;
              this.state = State.FieldStart;
              continue;
            }
            throw this.fail(
              'AVX_H1_INVALID_START_LINE',
              'expected CRLF after the HTTP version (RFC 9112 §3)',
              400,
              i,
            );
          }
          if (c !== SP) {
            throw this.fail(
              'AVX_H1_INVALID_START_LINE',
              'expected a space after the HTTP version (RFC 9112 §4)',
              400,
              i,
            );
          }
          i++;
          this.status = 0;
          this.state = State.StatusCode;
          continue;
        }

        case State.StatusCode: {
          const c = buf[i];
          if (c >= 0x30 && c <= 0x39) {
            if (this.status >= 100) {
              throw this.fail(
                'AVX_H1_INVALID_STATUS',
                'the status code must be three digits (RFC 9112 §4)',
                400,
                i,
              );
            }
            this.status = this.status * 10 + (c - 0x30);
            i++;
            continue;
          }
          if (this.status < 100) {
            throw this.fail(
              'AVX_H1_INVALID_STATUS',
              'the status code must be three digits (RFC 9112 §4)',
              400,
              i,
            );
          }
          this.state = State.StatusSpace;
          continue;
        }

        case State.StatusSpace: {
          const c = buf[i];
          if (c === SP) {
            i++;
            this.spanStart = i;
            this.state = State.Reason;
            continue;
          }
          // A missing reason phrase and its space are tolerated, as every client does.
          if (c === CR) {
            i++;
            this.reason = '';
            this.afterLf = State.FieldStart;
            this.state = State.LineLf;
            continue;
          }
          if (c === LF && this.lenientOptionalCr) {
            i++;
            this.reason = '';
            this.state = State.FieldStart;
            continue;
          }
          throw this.fail(
            'AVX_H1_INVALID_STATUS',
            'expected a space after the status code (RFC 9112 §4)',
            400,
            i,
          );
        }

        case State.Reason: {
          // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
          while (i < n && FIELD_VALUE_CHARS[buf[i]] === 1) i++;
          if (i === n) break;
          const c = buf[i];
          if (c === CR) {
            this.reason = this.takeSpan(buf, i);
            i++;
            this.afterLf = State.FieldStart;
            this.state = State.LineLf;
            continue;
          }
          if (c === LF && this.lenientOptionalCr) {
            this.reason = this.takeSpan(buf, i);
            i++;
            this.state = State.FieldStart;
            continue;
          }
          throw this.fail(
            'AVX_H1_INVALID_LINE_ENDING',
            'the status line must end with CRLF (RFC 9112 §4)',
            400,
            i,
          );
        }

        case State.LineLf: {
          i = this.lineFeed(
            buf,
            i,
            'AVX_H1_INVALID_LINE_ENDING',
            'a CR must be followed by LF (RFC 9112 §2.2)',
          );
          this.state = this.afterLf;
          continue;
        }

        case State.FieldStart: {
          if (this.headText !== '' && this.fast && i >= this.headTextStart && i < this.headTextEnd) {
            i = this.fastFieldLines(buf, i);
          }
          const c = buf[i];
          if (c === CR) {
            i++;
            this.state = State.HeadEndLf;
            continue;
          }
          if (c === LF && this.lenientOptionalCr) {
            i++;
            const stop = this.headComplete(buf, i);
            if (stop) return i;
            continue;
          }
          if (c === SP || c === HTAB) {
            throw this.fail(
              'AVX_H1_OBS_FOLD',
              'a field line starts with whitespace: obsolete line folding is not allowed (RFC 9112 §5.2)',
              400,
              i,
            );
          }
          if (this.fields.length >= this.maxHeaderCount * 2) {
            throw this.fail(
              'AVX_H1_TOO_MANY_HEADERS',
              `more than ${this.maxHeaderCount} header fields`,
              431,
              i,
            );
          }
          this.spanStart = i;
          this.state = State.FieldName;
          continue;
        }

        case State.FieldName: {
          while (i < n && TOKEN_CHARS[buf[i]] === 1) i++;
          if (i === n) break;
          const c = buf[i];
          if (c === COLON && (i > this.spanStart || this.partial !== '')) {
            const common =
              this.partial === '' ? findCommonHeaderName(buf, this.viewOf(buf), this.spanStart, i) : -1;
            if (common !== -1) {
              this.fieldName = COMMON_HEADER_NAMES[common];
              this.fieldKind = COMMON_HEADER_KINDS[common];
            } else {
              this.fieldName = internHeaderNameString(this.takeSpan(buf, i));
              this.fieldKind = classifyHeaderName(this.fieldName);
            }
            i++;
            this.state = State.FieldValueLeadingWs;
            continue;
          }
          if (c === SP || c === HTAB) {
            throw this.fail(
              'AVX_H1_WHITESPACE_BEFORE_COLON',
              'whitespace in or after a field name is not allowed (RFC 9112 §5.1)',
              400,
              i,
            );
          }
          throw this.fail(
            'AVX_H1_INVALID_HEADER_NAME',
            'a field name must be a token (RFC 9110 §5.1)',
            400,
            i,
          );
        }

        case State.FieldValueLeadingWs: {
          while (i < n && (buf[i] === SP || buf[i] === HTAB)) i++;
          if (i === n) break;
          this.spanStart = i;
          this.state = State.FieldValue;
          continue;
        }

        case State.FieldValue: {
          let c = 0;
          if (this.lenientValueRelaxed) {
            // Relaxed: any byte but the three that can split a message (NUL, CR, LF).
            while (i < n) {
              c = buf[i];
              if (c === CR || c === LF || c === 0) break;
              i++;
            }
          } else {
            i = scanFieldValue(buf, this.viewOf(buf), i, n);
            if (i < n) c = buf[i];
          }
          if (i === n) break;
          if (c === CR) {
            this.fieldComplete(buf, i);
            i++;
            this.state = State.FieldValueLf;
            continue;
          }
          if (c === LF && this.lenientOptionalCr) {
            this.fieldComplete(buf, i);
            i++;
            this.state = State.FieldStart;
            continue;
          }
          if (c === LF) {
            throw this.fail(
              'AVX_H1_INVALID_LINE_ENDING',
              'a field line must end with CRLF, not a bare LF (RFC 9112 §2.2)',
              400,
              i,
            );
          }
          throw this.fail(
            'AVX_H1_INVALID_HEADER_VALUE',
            `invalid byte 0x${c.toString(16).padStart(2, '0')} in a field value (RFC 9110 §5.5)`,
            400,
            i,
          );
        }

        case State.FieldValueLf: {
          i = this.lineFeed(
            buf,
            i,
            'AVX_H1_INVALID_LINE_ENDING',
            'a CR in a field line must be followed by LF (RFC 9112 §2.2)',
          );
          this.state = State.FieldStart;
          continue;
        }

        case State.HeadEndLf: {
          i = this.lineFeed(
            buf,
            i,
            'AVX_H1_INVALID_LINE_ENDING',
            'the header section must end with CRLF (RFC 9112 §2.2)',
          );
          if (this.headComplete(buf, i)) return i;
          continue;
        }

        case State.BodyLength: {
          const take = Math.min(this.remaining, n - i);
          const end = i + take;
          this.remaining -= take;
          this.handler.onBody(buf.subarray(i, end));
          i = end;
          if (this.remaining === 0 && this.messageComplete()) return i;
          continue;
        }

        case State.BodyUntilClose:
          this.handler.onBody(i === 0 ? buf : buf.subarray(i, n));
          return n;

        case State.ChunkSizeStart: {
          const v = HEX_VALUES[buf[i]];
          if (v === 255) {
            throw this.fail(
              'AVX_H1_INVALID_CHUNK_SIZE',
              'a chunk must start with its size in hex (RFC 9112 §7.1)',
              400,
              i,
            );
          }
          this.remaining = v;
          this.chunkExtBytes = 0;
          i++;
          this.state = State.ChunkSize;
          continue;
        }

        case State.ChunkSize: {
          let size = this.remaining;
          while (i < n) {
            const v = HEX_VALUES[buf[i]];
            if (v === 255) break;
            if (size > (MAX_LENGTH - v) / 16) {
              throw this.fail('AVX_H1_CHUNK_SIZE_OVERFLOW', 'the chunk size is too large', 400, i);
            }
            size = size * 16 + v;
            i++;
          }
          this.remaining = size;
          if (i === n) break;
          const c = buf[i];
          if (c === CR) {
            i++;
            this.state = State.ChunkSizeLf;
            continue;
          }
          if (c === SEMI) {
            i++;
            this.chunkExtBytes = 1;
            this.state = State.ChunkExtBeforeName;
            continue;
          }
          if ((c === SP || c === HTAB) && this.lenientChunkSpaces) {
            i++;
            this.state = State.ChunkSizeWs;
            continue;
          }
          if (c === LF && this.lenientOptionalCr) {
            i++;
            this.chunkSizeLine(i);
            continue;
          }
          throw this.fail(
            'AVX_H1_INVALID_CHUNK_SIZE',
            'invalid character in the chunk size (RFC 9112 §7.1)',
            400,
            i,
          );
        }

        case State.ChunkSizeWs: {
          const c = buf[i];
          if (c === SP || c === HTAB) {
            i++;
            continue;
          }
          if (c === CR) {
            i++;
            this.state = State.ChunkSizeLf;
            continue;
          }
          if (c === SEMI) {
            i++;
            this.chunkExtBytes = 1;
            this.state = State.ChunkExtBeforeName;
            continue;
          }
          throw this.fail(
            'AVX_H1_INVALID_CHUNK_SIZE',
            'invalid character after the chunk size (RFC 9112 §7.1)',
            400,
            i,
          );
        }

        // RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
        //                  chunk-ext-val = token / quoted-string
        case State.ChunkExtBeforeName:
        case State.ChunkExtName:
        case State.ChunkExtAfterName:
        case State.ChunkExtBeforeValue:
        case State.ChunkExtValue:
        case State.ChunkExtQuoted:
        case State.ChunkExtQuotedEscape:
        case State.ChunkExtAfterQuoted: {
          i = this.chunkExtension(buf, i, n);
          continue;
        }

        case State.ChunkSizeLf: {
          i = this.lineFeed(
            buf,
            i,
            'AVX_H1_INVALID_CHUNK_SIZE',
            'the chunk size line must end with CRLF (RFC 9112 §7.1)',
          );
          this.chunkSizeLine(i);
          continue;
        }

        case State.ChunkData: {
          const take = Math.min(this.remaining, n - i);
          const end = i + take;
          this.remaining -= take;
          this.handler.onBody(buf.subarray(i, end));
          i = end;
          if (this.remaining === 0) this.state = State.ChunkDataCr;
          continue;
        }

        case State.ChunkDataCr: {
          const c = buf[i];
          if (c === CR) {
            i++;
            this.state = State.ChunkDataLf;
            continue;
          }
          if (c === LF && this.lenientOptionalCr) {
            i++;
            this.state = State.ChunkSizeStart;
            continue;
          }
          if (this.lenientChunkCrlf) {
            this.state = State.ChunkSizeStart;
            continue;
          }
          throw this.fail(
            'AVX_H1_INVALID_CHUNK_DATA_END',
            'chunk data must be followed by CRLF (RFC 9112 §7.1)',
            400,
            i,
          );
        }

        case State.ChunkDataLf: {
          i = this.lineFeed(
            buf,
            i,
            'AVX_H1_INVALID_CHUNK_DATA_END',
            'chunk data must be followed by CRLF (RFC 9112 §7.1)',
          );
          this.state = State.ChunkSizeStart;
          continue;
        }

        case State.Closed: {
          if (this.lenientKeepAlive) {
            this.state = State.MessageStart;
            continue;
          }
          if (!this.isRequest && this.lenientDataAfterClose) return n;
          // Empty lines after the last message are harmless (RFC 9112 §2.2).
          const c = buf[i];
          if (c === CR || c === LF) {
            i++;
            continue;
          }
          throw this.fail(
            'AVX_H1_DATA_AFTER_CLOSE',
            'data after a message that closes the connection (RFC 9112 §9.6)',
            400,
            i,
          );
        }

        case State.PrefaceTail: {
          if (buf[i] !== PREFACE_TAIL[this.remaining]) {
            throw this.fail(
              'AVX_H1_INVALID_START_LINE',
              'a PRI request must be the HTTP/2 preface (RFC 9113 §3.4)',
              400,
              i,
            );
          }
          i++;
          if (++this.remaining === PREFACE_TAIL.length) {
            this.resetMessage();
            this.state = State.Upgraded;
            this.upgraded = true;
            this.http2Preface = true;
            return i;
          }
          continue;
        }

        case State.Upgraded:
          return i;

        default:
          throw this.fail('AVX_H1_PARSER_FAILED', 'the parser is in an unusable state', 400, i);
      }
      // A `break` out of the switch means the input ran out inside a run.
      break;
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // Spans and strings

  /** The span from `spanStart` (plus any carried part) to `end`, as a latin1 string. */
  private takeSpan(buf: Buffer, end: number): string {
    const start = this.spanStart;
    const s =
      this.headText !== '' && start >= this.headTextStart && end <= this.headTextEnd
        ? this.headText.slice(start - this.headTextStart, end - this.headTextStart)
        : latin1(buf, start, end);
    if (this.partial === '') return s;
    const whole = this.partial + s;
    this.partial = '';
    return whole;
  }

  /** At the end of a buffer, keep the unfinished span's bytes for the next `execute`. */
  private carrySpan(buf: Buffer, n: number): void {
    switch (this.state) {
      case State.Method:
      case State.Target:
      case State.Protocol:
      case State.Reason:
      case State.FieldName:
      case State.FieldValue:
        if (this.spanStart < n) this.partial += latin1(buf, this.spanStart, n);
        this.spanStart = 0;
        break;
      default:
        break;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Whole-line fast paths. They run only when the entire head is in the current buffer (so
  // every line ends inside it) and they accept only well-formed lines: on anything unusual they
  // return without consuming the line, and the state machine above parses it again and reports
  // the exact error. Both paths therefore give identical results however the input is split.

  /** `METHOD SP target SP HTTP/1.x CRLF`; returns the index after the line, or -1. */
  private fastRequestLine(buf: Buffer, i: number): number {
    const start = i;
    while (TOKEN_CHARS[buf[i]] === 1) i++;
    if (buf[i] !== SP || i === start) return -1;
    const methodEnd = i;
    const targetStart = ++i;
    while (TARGET_CHARS[buf[i]] === 1) i++;
    if (buf[i] !== SP || i === targetStart || i - targetStart > this.maxUriLength) return -1;
    const targetEnd = i;
    const minor = buf[i + 8];
    if (
      buf[i + 1] !== 0x48 || // H
      buf[i + 2] !== 0x54 || // T
      buf[i + 3] !== 0x54 || // T
      buf[i + 4] !== 0x50 || // P
      buf[i + 5] !== SLASH ||
      buf[i + 6] !== 0x31 || // 1
      buf[i + 7] !== DOT ||
      (minor !== 0x31 && minor !== 0x30) ||
      buf[i + 9] !== CR ||
      buf[i + 10] !== LF
    ) {
      return -1;
    }
    this.spanStart = start;
    const method = this.takeMethod(buf, methodEnd);
    if (!this.acceptAnyMethod && !isKnownMethod(method)) return -1;
    this.method = method;
    this.spanStart = targetStart;
    this.url = this.takeSpan(buf, targetEnd);
    this.protocol = 'HTTP';
    this.versionMajor = 1;
    this.versionMinor = minor - 0x30;
    return i + 11;
  }

  /** `HTTP/1.x SP 3DIGIT SP reason CRLF`; returns the index after the line, or -1. */
  private fastStatusLine(buf: Buffer, i: number): number {
    const minor = buf[i + 7];
    const d1 = buf[i + 9] - 0x30;
    const d2 = buf[i + 10] - 0x30;
    const d3 = buf[i + 11] - 0x30;
    if (
      buf[i] !== 0x48 ||
      buf[i + 1] !== 0x54 ||
      buf[i + 2] !== 0x54 ||
      buf[i + 3] !== 0x50 ||
      buf[i + 4] !== SLASH ||
      buf[i + 5] !== 0x31 ||
      buf[i + 6] !== DOT ||
      (minor !== 0x31 && minor !== 0x30) ||
      buf[i + 8] !== SP ||
      !(d1 >= 1 && d1 <= 9) ||
      !(d2 >= 0 && d2 <= 9) ||
      !(d3 >= 0 && d3 <= 9) ||
      buf[i + 12] !== SP
    ) {
      return -1;
    }
    const reasonStart = i + 13;
    const reasonEnd = scanFieldValue(buf, this.viewOf(buf), reasonStart, this.headTextEnd);
    if (buf[reasonEnd] !== CR || buf[reasonEnd + 1] !== LF) return -1;
    this.protocol = 'HTTP';
    this.versionMajor = 1;
    this.versionMinor = minor - 0x30;
    this.status = d1 * 100 + d2 * 10 + d3;
    this.spanStart = reasonStart;
    this.reason = this.takeSpan(buf, reasonEnd);
    return reasonEnd + 2;
  }

  /**
   * Field lines `name ":" OWS value OWS CRLF`, as many as are well-formed; returns the index of
   * the first line not handled (the blank line that ends the head, normally).
   */
  private fastFieldLines(buf: Buffer, i: number): number {
    const text = this.headText;
    const textStart = this.headTextStart;
    const textEnd = this.headTextEnd;
    const maxFields = this.maxHeaderCount * 2;
    const view = this.viewOf(buf);
    while (buf[i] !== CR) {
      const start = i;
      // The name: up to the colon, then either a known spelling (valid by construction) or
      // checked byte by byte.
      if (this.fields.length >= maxFields || start + 4 > textEnd) return start;
      // A common spelling is recognised from its first bytes (valid by construction);
      // anything else is scanned to its colon and checked byte by byte.
      const common = matchCommonHeaderName(buf, view, start, textEnd);
      let name: string;
      let kind: HeaderKind;
      let colon: number;
      if (common !== -1) {
        name = COMMON_HEADER_NAMES[common];
        kind = COMMON_HEADER_KINDS[common];
        colon = start + COMMON_HEADER_LENGTHS[common];
      } else {
        colon = start;
        let c = buf[colon];
        while (TOKEN_CHARS[c] === 1) c = buf[++colon];
        if (c !== COLON || colon === start) return start;
        name = text.slice(start - textStart, colon - textStart);
        kind = classifyHeaderName(name);
      }
      let j = colon + 1;
      while (buf[j] === SP || buf[j] === HTAB) j++;
      const valueStart = j;
      const cr = scanFieldValue(buf, view, valueStart, textEnd);
      if (buf[cr] !== CR || buf[cr + 1] !== LF) return start;
      let valueEnd = cr;
      while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;
      const slot = common === -1 ? -1 : COMMON_HEADER_REPEAT_SLOTS[common]!;
      const value =
        slot === -1
          ? text.slice(valueStart - textStart, valueEnd - textStart)
          : this.repeatedValue(slot, buf, valueStart, valueEnd);
      this.addField(name, kind, value, cr);
      i = cr + 2;
    }
    return i;
  }

  /**
   * After a CR: consumes the LF that must follow (RFC 9112 §2.2), or with the
   * `optionalLfAfterCr` leniency accepts its absence. Returns the next index.
   */
  private lineFeed(buf: Buffer, i: number, code: H1ParseErrorCode, message: string): number {
    if (buf[i] === LF) return i + 1;
    if (this.lenientOptionalLf) return i;
    throw this.fail(code, message, 400, i);
  }

  /**
   * The value in `buf[start, end)` (within the head text) of a field with a repeat slot: the
   * string last made for that slot, by any parser, when the bytes are the same, else a new
   * one, kept for the next message (see COMMON_HEADER_REPEAT_SLOTS). The slots are shared
   * because what compares these values (a virtual-host table, tracing's span facts) sees the
   * requests of every connection interleaved.
   */
  private repeatedValue(slot: number, buf: Buffer, start: number, end: number): string {
    const length = end - start;
    if (length > MAX_REPEATED_LENGTH)
      return this.headText.slice(start - this.headTextStart, end - this.headTextStart);
    const bytes = repeatedBytes[slot]!;
    if (repeatedLengths[slot] === length) {
      let k = 0;
      while (k < length && buf[start + k] === bytes[k]) k++;
      if (k === length) return repeatedValues[slot]!;
    }
    const value = this.headText.slice(start - this.headTextStart, end - this.headTextStart);
    buf.copy(bytes, 0, start, end);
    repeatedLengths[slot] = length;
    repeatedValues[slot] = value;
    return value;
  }

  /** A DataView over `buf`, made at most once per buffer. */
  private viewOf(buf: Buffer): DataView {
    if (this.viewBuffer !== buf) {
      this.viewBuffer = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.view!;
  }

  private takeMethod(buf: Buffer, end: number): string {
    if (this.partial === '') {
      const start = this.spanStart;
      // The two methods of nearly every request, without allocating.
      if (end - start === 3 && buf[start] === 0x47 && buf[start + 1] === 0x45 && buf[start + 2] === 0x54)
        return 'GET';
      if (
        end - start === 4 &&
        buf[start] === 0x50 &&
        buf[start + 1] === 0x4f &&
        buf[start + 2] === 0x53 &&
        buf[start + 3] === 0x54
      ) {
        return 'POST';
      }
    }
    return this.takeSpan(buf, end);
  }

  // ---------------------------------------------------------------------------------------------
  // Start line and header section semantics

  private checkVersion(i: number): void {
    const major = this.versionMajor;
    const minor = this.versionMinor;
    let ok: boolean;
    if (this.protocol === 'HTTP') {
      ok = (major === 1 && minor <= 1) || (major === 0 && minor === 9) || (major === 2 && minor === 0);
    } else {
      // RTSP and ICE share HTTP/1.x framing; their versions are theirs to judge.
      ok = true;
    }
    if (!ok && !this.lenientVersion) {
      throw this.fail(
        'AVX_H1_UNSUPPORTED_VERSION',
        `unsupported version ${this.protocol}/${major}.${minor}`,
        505,
        i,
      );
    }
    if (this.isRequest) this.checkMethodForProtocol(i);
  }

  private checkMethodForProtocol(i: number): void {
    const m = this.method;
    if (this.protocol === 'HTTP' || this.protocol === '') {
      if (!this.acceptAnyMethod && !isKnownMethod(m)) {
        throw this.fail('AVX_H1_UNKNOWN_METHOD', `unknown method ${JSON.stringify(m)}`, 501, i);
      }
    } else if (this.protocol === 'RTSP') {
      if (!RTSP_METHODS.has(m)) {
        throw this.fail('AVX_H1_UNKNOWN_METHOD', `method ${JSON.stringify(m)} is not an RTSP method`, 501, i);
      }
    } else if (m !== 'SOURCE') {
      throw this.fail('AVX_H1_UNKNOWN_METHOD', 'ICE requests must use the SOURCE method', 501, i);
    }
  }

  /** A field line ended at `end` (the CR or LF): record it and act on framing fields. */
  private fieldComplete(buf: Buffer, end: number): void {
    let value: string;
    if (this.partial === '') {
      // RFC 9112 §5.1: trailing whitespace is not part of the value.
      let e = end;
      const s = this.spanStart;
      while (e > s && (buf[e - 1] === SP || buf[e - 1] === HTAB)) e--;
      value =
        this.headText !== '' && s >= this.headTextStart && e <= this.headTextEnd
          ? this.headText.slice(s - this.headTextStart, e - this.headTextStart)
          : latin1(buf, s, e);
    } else {
      value = trimTrailingWhitespace(this.takeSpan(buf, end));
    }
    this.addField(this.fieldName, this.fieldKind, value, end);
  }

  /** Record a field line and act on the fields that frame the message. */
  private addField(name: string, kind: HeaderKind, value: string, end: number): void {
    this.fields.push(name, value);
    if (kind === HeaderKind.Other || this.inTrailers) return;
    switch (kind) {
      case HeaderKind.ContentLength:
        this.onContentLength(value, end);
        break;
      case HeaderKind.TransferEncoding:
        this.onTransferEncoding(value, end);
        break;
      case HeaderKind.Connection:
        this.onConnection(value);
        break;
      case HeaderKind.Upgrade:
        this.upgradeHeader = true;
        break;
      case HeaderKind.Expect:
        if (value.length === 12 && value.toLowerCase() === '100-continue') this.expectContinue = true;
        break;
      case HeaderKind.Host:
        // Counted here, while the line is at hand, so a server can enforce RFC 9112 §3.2
        // (exactly one Host) without searching the field list again.
        this.hostCount++;
        this.host = value;
        break;
    }
  }

  /** RFC 9110 §8.6: Content-Length = 1*DIGIT; RFC 9112 §6.3: differing or invalid values are fatal. */
  private onContentLength(value: string, at: number): void {
    if (this.contentLength !== -1) {
      throw this.fail(
        'AVX_H1_DUPLICATE_CONTENT_LENGTH',
        'more than one Content-Length field (RFC 9112 §6.3)',
        400,
        at,
      );
    }
    const len = value.length;
    if (len === 0) {
      throw this.fail('AVX_H1_INVALID_CONTENT_LENGTH', 'empty Content-Length (RFC 9110 §8.6)', 400, at);
    }
    let n = 0;
    for (let k = 0; k < len; k++) {
      const d = value.charCodeAt(k) - 0x30;
      if (d < 0 || d > 9) {
        throw this.fail(
          'AVX_H1_INVALID_CONTENT_LENGTH',
          `Content-Length must be decimal digits only, got ${JSON.stringify(value)} (RFC 9110 §8.6)`,
          400,
          at,
        );
      }
      n = n * 10 + d;
      if (n > MAX_LENGTH) {
        throw this.fail('AVX_H1_INVALID_CONTENT_LENGTH', 'Content-Length is too large', 400, at);
      }
    }
    this.contentLength = n;
  }

  /**
   * RFC 9112 §6.1: Transfer-Encoding is a list of codings; chunked, when present, must be the
   * final one and appear once. Several field lines form one list (RFC 9110 §5.3).
   */
  private onTransferEncoding(value: string, at: number): void {
    this.transferEncoding = true;
    let last = '';
    let start = 0;
    const len = value.length;
    let sawChunked = false;
    for (let k = 0; k <= len; k++) {
      if (k === len || value.charCodeAt(k) === 0x2c) {
        let s = start;
        let e = k;
        while (s < e && (value.charCodeAt(s) === SP || value.charCodeAt(s) === HTAB)) s++;
        while (e > s && (value.charCodeAt(e - 1) === SP || value.charCodeAt(e - 1) === HTAB)) e--;
        if (e > s) {
          const coding = value.slice(s, e);
          last = coding;
          if (coding.length === 7 && coding.toLowerCase() === 'chunked') {
            if (sawChunked || this.sawChunkedBefore) {
              throw this.fail(
                'AVX_H1_INVALID_TRANSFER_ENCODING',
                'chunked applied more than once (RFC 9112 §6.1)',
                400,
                at,
              );
            }
            sawChunked = true;
          }
        }
        start = k + 1;
      }
    }
    if (sawChunked) this.sawChunkedBefore = true;
    this.chunked = last.length === 7 && last.toLowerCase() === 'chunked';
  }

  /** RFC 9110 §7.6.1: Connection is a list of option names. */
  private onConnection(value: string): void {
    let start = 0;
    const len = value.length;
    for (let k = 0; k <= len; k++) {
      if (k === len || value.charCodeAt(k) === 0x2c) {
        let s = start;
        let e = k;
        while (s < e && (value.charCodeAt(s) === SP || value.charCodeAt(s) === HTAB)) s++;
        while (e > s && (value.charCodeAt(e - 1) === SP || value.charCodeAt(e - 1) === HTAB)) e--;
        const l = e - s;
        if (l === 5 && equalsLowercase(value, s, 'close')) this.connectionClose = true;
        else if (l === 7 && equalsLowercase(value, s, 'upgrade')) this.connectionUpgrade = true;
        else if (l === 10 && equalsLowercase(value, s, 'keep-alive')) this.connectionKeepAlive = true;
        start = k + 1;
      }
    }
  }

  /**
   * The blank line after the header (or trailer) section was consumed; `i` is the next byte.
   * Decides the body framing (RFC 9112 §6.3) and reports the head. Returns true when parsing
   * must stop because the connection changed protocol.
   */
  private headComplete(buf: Buffer, i: number): boolean {
    if (this.base + i - this.headStart > this.maxHeaderBytes) {
      throw this.fail(
        'AVX_H1_HEADER_TOO_LARGE',
        `the header section exceeds ${this.maxHeaderBytes} bytes`,
        431,
        i,
      );
    }
    if (this.inTrailers) {
      if (this.fields.length > 0) this.handler.onTrailers(this.fields);
      return this.messageComplete();
    }
    void buf;

    // Persistence, RFC 9112 §9.3.
    const v11 = this.versionMajor > 1 || (this.versionMajor === 1 && this.versionMinor >= 1);
    this.keepAlive = this.connectionClose ? false : v11 || this.connectionKeepAlive;

    let body = Body.None;
    if (this.transferEncoding) {
      if (this.contentLength !== -1 && !this.lenientChunkedLength) {
        throw this.fail(
          'AVX_H1_CONTENT_LENGTH_WITH_TRANSFER_ENCODING',
          'Content-Length and Transfer-Encoding together (RFC 9112 §6.1)',
          400,
          i,
        );
      }
      if (this.chunked) {
        body = Body.Chunked;
      } else if (this.isRequest && !this.lenientTransferEncoding) {
        // RFC 9112 §6.3 rule 4: a request whose final coding is not chunked is a 400 and a close.
        throw this.fail(
          'AVX_H1_INVALID_TRANSFER_ENCODING',
          'the final transfer coding of a request must be chunked (RFC 9112 §6.3)',
          400,
          i,
        );
      } else {
        body = Body.UntilClose;
      }
      this.contentLength = -1;
    } else if (this.contentLength > 0) {
      body = Body.Length;
    } else if (this.contentLength === -1 && !this.isRequest) {
      body = Body.UntilClose;
    }

    let head: Head;
    if (this.isRequest) {
      const method = this.method;
      if (method === 'PRI') {
        // RFC 9113 §3.4: "PRI * HTTP/2.0" CRLF CRLF "SM" CRLF CRLF is the HTTP/2 connection
        // preface, not a request. Consume it whole and hand the connection over.
        this.remaining = 0;
        this.state = State.PrefaceTail;
        return false;
      }
      if (method === 'CONNECT') {
        // RFC 9110 §9.3.6: after CONNECT the connection is a tunnel.
        this.upgrade = true;
        body = Body.None;
      } else {
        // RFC 9110 §7.8: Upgrade only counts when Connection lists it.
        this.upgrade = this.upgradeHeader && this.connectionUpgrade;
      }
      if (body === Body.UntilClose) this.keepAlive = false;
      const req: H1RequestHead = {
        method,
        url: this.url,
        protocol: this.protocol,
        versionMajor: this.versionMajor,
        versionMinor: this.versionMinor,
        headers: this.fields,
        contentLength: this.contentLength,
        chunked: this.chunked,
        keepAlive: this.keepAlive,
        upgrade: this.upgrade,
        expectContinue: this.expectContinue,
        hostCount: this.hostCount,
        host: this.host,
      };
      head = req as unknown as Head;
      if (this.handler.onHead(head) === H1ResponseBody.None) body = Body.None;
    } else {
      const status = this.status;
      const informational = status < 200;
      if (status === 101) this.upgrade = true;
      if (informational || status === 204 || status === 304) body = Body.None;
      if (body === Body.UntilClose) this.keepAlive = false;
      const res: H1ResponseHead = {
        status,
        reason: this.reason,
        protocol: this.protocol,
        versionMajor: this.versionMajor,
        versionMinor: this.versionMinor,
        headers: this.fields,
        contentLength: this.contentLength,
        chunked: this.chunked,
        keepAlive: this.keepAlive,
        upgrade: this.upgrade,
      };
      head = res as unknown as Head;
      const steer = this.handler.onHead(head);
      if (steer === H1ResponseBody.None) {
        body = Body.None;
      } else if (steer === H1ResponseBody.Tunnel) {
        body = Body.None;
        this.upgrade = true;
        res.upgrade = true;
      }
      if (informational && status !== 101) {
        // RFC 9110 §15.2: an interim response; the final response follows on this parser.
        this.handler.onMessageComplete();
        this.resetMessage();
        this.state = State.MessageStart;
        return false;
      }
    }

    switch (body) {
      case Body.None:
        return this.messageComplete();
      case Body.Length:
        this.remaining = this.contentLength;
        this.state = State.BodyLength;
        return false;
      case Body.Chunked:
        this.state = State.ChunkSizeStart;
        return false;
      default:
        this.state = State.BodyUntilClose;
        return false;
    }
  }

  /** The chunk-size line ended; `i` is the next byte. */
  private chunkSizeLine(i: number): void {
    if (this.remaining === 0) {
      // RFC 9112 §7.1.2: the last chunk is followed by an optional trailer section.
      this.inTrailers = true;
      this.fields = [];
      this.headStart = this.base + i;
      this.state = State.FieldStart;
      return;
    }
    this.state = State.ChunkData;
  }

  /** Chunk extensions are validated and discarded (RFC 9112 §7.1.1: ignore unrecognised ones). */
  private chunkExtension(buf: Buffer, i: number, n: number): number {
    const start = i;
    while (i < n) {
      const c = buf[i];
      if (c === LF && this.lenientOptionalCr && this.state !== State.ChunkExtQuoted) {
        this.addChunkExtBytes(i - start, i);
        this.chunkSizeLine(i + 1);
        return i + 1;
      }
      if (c !== CR && this.chunkExtBytes + (i - start) >= this.maxChunkExtensionBytes) {
        throw this.fail(
          'AVX_H1_CHUNK_EXTENSION_TOO_LARGE',
          `chunk extensions exceed ${this.maxChunkExtensionBytes} bytes`,
          400,
          i,
        );
      }
      switch (this.state) {
        case State.ChunkExtBeforeName:
          if (c === SP || c === HTAB) break;
          if (TOKEN_CHARS[c] === 1) {
            this.state = State.ChunkExtName;
            break;
          }
          throw this.extError(i, 'expected an extension name');
        case State.ChunkExtName:
          if (TOKEN_CHARS[c] === 1) break;
          if (c === SP || c === HTAB) {
            this.state = State.ChunkExtAfterName;
            break;
          }
          if (c === EQUALS) {
            this.state = State.ChunkExtBeforeValue;
            break;
          }
          if (c === SEMI) {
            this.state = State.ChunkExtBeforeName;
            break;
          }
          if (c === CR) return this.chunkExtEnd(start, i);
          throw this.extError(i, 'invalid character in an extension name');
        case State.ChunkExtAfterName:
          if (c === SP || c === HTAB) break;
          if (c === EQUALS) {
            this.state = State.ChunkExtBeforeValue;
            break;
          }
          if (c === SEMI) {
            this.state = State.ChunkExtBeforeName;
            break;
          }
          if (c === CR) return this.chunkExtEnd(start, i);
          throw this.extError(i, 'invalid character after an extension name');
        case State.ChunkExtBeforeValue:
          if (c === SP || c === HTAB) break;
          if (c === DQUOTE) {
            this.state = State.ChunkExtQuoted;
            break;
          }
          if (TOKEN_CHARS[c] === 1) {
            this.state = State.ChunkExtValue;
            break;
          }
          throw this.extError(i, 'expected an extension value');
        case State.ChunkExtValue:
          if (TOKEN_CHARS[c] === 1) break;
          if (c === SEMI) {
            this.state = State.ChunkExtBeforeName;
            break;
          }
          if (c === SP || c === HTAB) {
            this.state = State.ChunkExtAfterQuoted;
            break;
          }
          if (c === CR) return this.chunkExtEnd(start, i);
          throw this.extError(i, 'invalid character in an extension value');
        case State.ChunkExtQuoted:
          // RFC 9110 §5.6.4: qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
          if (c === DQUOTE) {
            this.state = State.ChunkExtAfterQuoted;
            break;
          }
          if (c === BACKSLASH) {
            this.state = State.ChunkExtQuotedEscape;
            break;
          }
          if (c === HTAB || (c >= 0x20 && c !== 0x7f)) break;
          throw this.extError(i, 'invalid character in a quoted extension value');
        case State.ChunkExtQuotedEscape:
          if (c === HTAB || (c >= 0x20 && c !== 0x7f)) {
            this.state = State.ChunkExtQuoted;
            break;
          }
          throw this.extError(i, 'invalid escaped character in a quoted extension value');
        case State.ChunkExtAfterQuoted:
          if (c === SP || c === HTAB) break;
          if (c === SEMI) {
            this.state = State.ChunkExtBeforeName;
            break;
          }
          if (c === CR) return this.chunkExtEnd(start, i);
          throw this.extError(i, 'invalid character after an extension value');
        default:
          throw this.extError(i, 'unexpected state');
      }
      i++;
    }
    this.addChunkExtBytes(i - start, i);
    return i;
  }

  private chunkExtEnd(start: number, cr: number): number {
    this.addChunkExtBytes(cr - start, cr);
    this.state = State.ChunkSizeLf;
    return cr + 1;
  }

  private addChunkExtBytes(count: number, at: number): void {
    this.chunkExtBytes += count;
    if (this.chunkExtBytes > this.maxChunkExtensionBytes) {
      throw this.fail(
        'AVX_H1_CHUNK_EXTENSION_TOO_LARGE',
        `chunk extensions exceed ${this.maxChunkExtensionBytes} bytes`,
        400,
        at,
      );
    }
  }

  private extError(i: number, what: string): H1ParseError {
    return this.fail('AVX_H1_INVALID_CHUNK_EXTENSION', `${what} (RFC 9112 §7.1.1)`, 400, i);
  }

  /** A message ended. Returns true when parsing must stop (the connection changed protocol). */
  private messageComplete(): boolean {
    const upgrade = this.upgrade;
    const keepAlive = this.keepAlive;
    this.handler.onMessageComplete();
    this.resetMessage();
    if (upgrade) {
      this.state = State.Upgraded;
      this.upgraded = true;
      return true;
    }
    this.state = keepAlive ? State.MessageStart : State.Closed;
    return false;
  }

  private resetMessage(): void {
    this.inTrailers = false;
    this.method = '';
    this.url = '';
    this.protocol = '';
    this.versionMajor = 0;
    this.versionMinor = 0;
    this.status = 0;
    this.reason = '';
    this.fields = [];
    this.fieldName = '';
    this.fieldKind = HeaderKind.Other;
    this.contentLength = -1;
    this.transferEncoding = false;
    this.chunked = false;
    this.sawChunkedBefore = false;
    this.connectionClose = false;
    this.connectionKeepAlive = false;
    this.connectionUpgrade = false;
    this.upgradeHeader = false;
    this.expectContinue = false;
    this.hostCount = 0;
    this.host = '';
    this.keepAlive = true;
    this.upgrade = false;
    this.remaining = 0;
    this.chunkExtBytes = 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Limits and errors

  private inHead(): boolean {
    const s = this.state;
    return (s >= State.Method && s <= State.HeadEndLf) || this.inTrailers;
  }

  /** After a whole buffer: a head that is still incomplete must not already exceed the limit. */
  private checkHeadLimit(n: number): void {
    if (this.inHead() && this.base + n - this.headStart > this.maxHeaderBytes) {
      throw this.fail(
        'AVX_H1_HEADER_TOO_LARGE',
        `the header section exceeds ${this.maxHeaderBytes} bytes`,
        431,
        n,
      );
    }
  }

  /**
   * Enter the failed state. An error found past the header-size limit is reported as the limit,
   * so the outcome does not depend on where the input was split.
   */
  private fail(code: H1ParseErrorCode, message: string, status: number, i: number): H1ParseError {
    const offset = this.base + i;
    if (
      this.inHead() &&
      offset - this.headStart >= this.maxHeaderBytes &&
      code !== 'AVX_H1_HEADER_TOO_LARGE'
    ) {
      code = 'AVX_H1_HEADER_TOO_LARGE';
      message = `the header section exceeds ${this.maxHeaderBytes} bytes`;
      status = 431;
    }
    const err = new H1ParseError(code, message, status, offset);
    this.state = State.Failed;
    this.error = err;
    return err;
  }
}

/**
 * True when `value` at `start` spells `lower` ignoring ASCII case, without allocating. `lower`
 * is lowercase letters and '-' only, so OR-ing 0x20 into the input folds exactly its letters.
 */
function equalsLowercase(value: string, start: number, lower: string): boolean {
  const len = lower.length;
  for (let k = 0; k < len; k++) {
    const c = value.charCodeAt(start + k);
    const l = lower.charCodeAt(k);
    if (c !== l && (c | 0x20) !== l) return false;
  }
  return true;
}

function trimTrailingWhitespace(s: string): string {
  let e = s.length;
  while (e > 0) {
    const c = s.charCodeAt(e - 1);
    if (c !== SP && c !== HTAB) break;
    e--;
  }
  return e === s.length ? s : s.slice(0, e);
}
