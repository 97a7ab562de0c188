/**
 * The public shapes of the HTTP/1.1 codec: options, parsed message heads and the handler a
 * parser reports to. Kept apart from the parser so drivers and tests can import the types
 * without the state machine.
 */

/** Leniency flags, all off by default. Each one re-admits input that RFC 9112 forbids; turn them
 * on only to talk to a known-broken peer (like node's `insecureHTTPParser`). */
export interface H1Leniency {
  /** Accept any byte except NUL, CR and LF in header values (also relaxes `headerValueRelaxed`). */
  headers?: boolean;
  /** Accept control characters other than NUL, CR and LF in header values. */
  headerValueRelaxed?: boolean;
  /** Allow Content-Length together with Transfer-Encoding; the Content-Length is then ignored. */
  chunkedLength?: boolean;
  /** Keep parsing after a message that said `Connection: close`. */
  keepAlive?: boolean;
  /** Accept a request Transfer-Encoding whose final coding is not chunked (body read until close). */
  transferEncoding?: boolean;
  /** Accept any one-digit major/minor version, not only 0.9/1.0/1.1/2.0. */
  version?: boolean;
  /** Ignore data after a close-delimited or `Connection: close` response. */
  dataAfterClose?: boolean;
  /** Accept a CR that is not followed by LF as a line ending. */
  optionalLfAfterCr?: boolean;
  /** Accept a bare LF (no CR before it) as a line ending. */
  optionalCrBeforeLf?: boolean;
  /** Accept chunk data not followed by CRLF. */
  optionalCrlfAfterChunk?: boolean;
  /** Accept spaces between the chunk size and its CRLF or extensions. */
  spacesAfterChunkSize?: boolean;
}

/** Limits and switches of `H1Parser`. Every field is optional; the defaults are safe. */
export interface H1ParserOptions {
  /** Bytes of start line plus header section (and of a trailer section). Default 16384 (16 KiB). */
  maxHeaderBytes?: number;
  /** Header fields in one header (or trailer) section. Default 100. */
  maxHeaderCount?: number;
  /** Bytes of the request-target. Default 8192 (8 KiB). */
  maxUriLength?: number;
  /** Bytes of one chunk's extensions (RFC 9112 §7.1.1). Default 16384 (16 KiB). */
  maxChunkExtensionBytes?: number;
  /**
   * Accept any token as a request method. Default false: only the methods of the IANA registry
   * and Node's `http.METHODS` are accepted, others fail with `AVX_H1_UNKNOWN_METHOD` (status 501).
   */
  acceptAnyMethod?: boolean;
  /** Opt-in leniencies; all off by default. */
  lenient?: H1Leniency;
}

/** What a request and a response head have in common. */
export interface H1MessageHead {
  /** `HTTP` (or `RTSP` / `ICE`, which share HTTP/1.x framing; '' for an HTTP/0.9 request line). */
  protocol: string;
  versionMajor: number;
  versionMinor: number;
  /**
   * Header fields in arrival order, flattened: `[name0, value0, name1, value1, ...]`. Names are
   * as received (case kept); values have leading and trailing whitespace removed (RFC 9112 §5.1).
   * Common names are interned strings.
   */
  headers: string[];
  /** The Content-Length, or -1 when the message has none. */
  contentLength: number;
  /** Transfer-Encoding ends in `chunked`. */
  chunked: boolean;
  /** The connection may carry another message after this one (RFC 9112 §9.3). */
  keepAlive: boolean;
  /** The connection switches protocol after this message (Upgrade, CONNECT, 101). */
  upgrade: boolean;
}

/** A parsed request head (RFC 9112 §3). */
export interface H1RequestHead extends H1MessageHead {
  method: string;
  /** The request-target exactly as sent. */
  url: string;
  /** The request carries `Expect: 100-continue` (RFC 9110 §10.1.1). */
  expectContinue: boolean;
  /**
   * Host field lines in the header section, in any spelling of the name. RFC 9112 §3.2: a
   * server answers 400 when an HTTP/1.1 request has none or any request has more than one.
   */
  hostCount: number;
  /** The value of the (last) Host field line; '' when there is none. */
  host: string;
}

/** A parsed response head (RFC 9112 §4). */
export interface H1ResponseHead extends H1MessageHead {
  status: number;
  /** The reason phrase, possibly empty. */
  reason: string;
}

/**
 * What a response handler's `onHead` returns to steer body parsing, since a response's
 * framing depends on the request it answers (RFC 9112 §6.3).
 */
export const H1ResponseBody = {
  /** Frame the body from the response's own headers. */
  Normal: 0,
  /** The response has no body: it answers a HEAD request. */
  None: 1,
  /** The response is a 2xx to CONNECT: no body, the connection becomes a tunnel. */
  Tunnel: 2,
} as const;
export type H1ResponseBody = (typeof H1ResponseBody)[keyof typeof H1ResponseBody];

/** Receives a parser's events. Methods are called synchronously from `execute` / `finish`. */
export interface H1ParserHandler<Head extends H1MessageHead> {
  /**
   * A complete head. A response handler may return an {@link H1ResponseBody} value to steer
   * the body's framing; returning `H1ResponseBody.None` from a request handler skips the body.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: handlers that return nothing are the common case
  onHead(head: Head): H1ResponseBody | undefined | void;
  /** A piece of body (chunk framing removed). A view of the input: no copy was made. */
  onBody(chunk: Buffer): void;
  /** The trailer section of a chunked message, flattened like `headers`; not called when empty. */
  onTrailers(trailers: string[]): void;
  /** The message is complete. */
  onMessageComplete(): void;
}
