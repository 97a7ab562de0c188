/**
 * WebSocket: one open WebSocket connection (RFC 6455), server or client side, over a socket
 * the opening handshake has already switched. The driver around the sans-I/O
 * {@link WsConnection}: it pumps socket bytes into the core and the core's frames into the
 * socket, applies backpressure both ways, keeps the heartbeat (Ping every period, a silent peer
 * is dead) and the close-handshake timeout on the project's TimerWheel, and closes the TCP
 * connection the way RFC 6455 §7.1.1 asks (the server first).
 *
 * Events: `message` (data: Buffer, isBinary), `ping`, `pong`, `close` (code, reason), `error`
 * (only emitted when someone listens: an unhandled protocol error must not crash a server; the
 * close code tells what happened anyway). Messages are also an async iterable of
 * `{ data, isBinary }`. Text messages arrive as UTF-8 Buffers (`data.toString()`), already
 * validated. Messages that arrive before anyone listens are kept (reading pauses after
 * `iteratorQueueLimit` of them) and go to the first `message` listener or iterator.
 */

import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { defaultTimerWheel, type TimerHandle, type TimerWheel } from '../runtime/timer-wheel.js';
import { PerMessageDeflate } from './per-message-deflate.js';
import { type ResolvedWebSocketOptions, resolveWebSocketOptions } from './websocket-options.js';
import { openWsClientHandshake, type WebSocketConnectOptions } from './ws-client-handshake.js';
import { WsCloseCode } from './ws-close-code.js';
import {
  WsConnection,
  type WsConnection as WsConnectionType,
  type WsWriteCallback,
} from './ws-connection.js';
import { wsCloseChannel, wsOpenChannel } from './ws-diagnostics.js';
import { WsClosedError, WsHeartbeatTimeoutError, WsUsageError } from './ws-errors.js';
import type { WsEncodedFrame } from './ws-frame-writer.js';
import { openWsH2ClientHandshake } from './ws-h2-client-handshake.js';

/** A received message, as the async iterator yields it. */
export interface WebSocketMessage {
  /** The payload; UTF-8 (validated) for text messages. */
  data: Buffer;
  isBinary: boolean;
}

/** Options of {@link WebSocket.send}. */
export interface WebSocketSendOptions {
  /** Send as a binary message. Default: false for strings, true for bytes. */
  binary?: boolean;
  /** Compress with permessage-deflate when it was negotiated (and the message reaches its threshold). Default true. */
  compress?: boolean;
}

/** The events of a {@link WebSocket} and their arguments. */
export interface WebSocketEvents {
  message: [data: Buffer, isBinary: boolean];
  ping: [data: Buffer];
  pong: [data: Buffer];
  close: [code: number, reason: string];
  error: [error: Error];
  // biome-ignore lint/suspicious/noExplicitAny: EventEmitter's own signature
  newListener: [event: string | symbol, listener: (...args: any[]) => void];
}

/** What a connection is made of once its handshake is done (server or client side). */
export interface WebSocketInit {
  /** The connection's byte stream: a TCP or TLS socket, or an HTTP/2 stream (RFC 8441). */
  socket: Duplex;
  isServer: boolean;
  /** Bytes that arrived after the handshake: the first WebSocket bytes. */
  head: Buffer;
  url: string;
  protocol: string;
  extensions: string;
  deflate: PerMessageDeflate | undefined;
  options: ResolvedWebSocketOptions;
}

const READY: Promise<void> = Promise.resolve();
const PAUSE_INFLATE = 1;
const PAUSE_ITERATOR = 2;
const PAUSE_UNHEARD = 4;
/** Frames up to this size are gathered into one write per event-loop turn. */
const GATHER_MAX = 4096;
/** Gathered bytes that trigger a write before the turn ends. */
const GATHER_FLUSH = 65536;
const noop = () => {};

/** One WebSocket connection. Made by `app.ws(...)` on a server and {@link WebSocket.connect} on a client. */
export class WebSocket extends EventEmitter<WebSocketEvents> implements AsyncIterable<WebSocketMessage> {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  /** 1 (OPEN), then 2 (CLOSING) once a Close was sent or received, then 3 (CLOSED). */
  readyState = 1;
  /** The URL (client) or request target (server) of the connection. */
  readonly url: string;
  /** The negotiated subprotocol, '' when none (RFC 6455 §1.9). */
  readonly protocol: string;
  /** The negotiated extensions as sent in `Sec-WebSocket-Extensions`, '' when none. */
  readonly extensions: string;
  /** True on the server side. */
  readonly isServer: boolean;
  /** The close code: the peer's (1005 if its Close had none), ours on a protocol error, 1006 when no Close came. */
  closeCode: number = WsCloseCode.Abnormal;
  /** The close reason from the peer's Close frame, '' when none. */
  closeReason = '';

  private readonly socket: Duplex;
  private readonly core: WsConnectionType;
  private readonly options: ResolvedWebSocketOptions;
  private readonly wheel: TimerWheel;
  private head: Buffer | undefined;
  private pauseBits = 0;
  private alive = true;
  private closeWritten = false;
  private failure: Error | undefined;
  private heartbeat: TimerHandle | undefined;
  private closeTimer: TimerHandle | undefined;
  private drain: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;
  private iterator: WebSocketMessageIterator | undefined;
  /** Small frames written this turn, sent together at its end (see `writeFrame`). */
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private gatheredCallbacks: WsWriteCallback[] = [];
  /** Messages that arrived while nobody listened, for the first listener or iterator. */
  private unheard: WebSocketMessage[] = [];

  /** @internal Use `app.ws(...)` or {@link WebSocket.connect}. */
  constructor(init: WebSocketInit) {
    super();
    this.socket = init.socket;
    this.isServer = init.isServer;
    this.url = init.url;
    this.protocol = init.protocol;
    this.extensions = init.extensions;
    this.options = init.options;
    this.wheel = init.options.timerWheel ?? defaultTimerWheel();
    this.head = init.head.length > 0 ? init.head : undefined;
    const ws = this;
    this.core = new WsConnection(
      {
        write(header, payload, callback) {
          ws.writeFrame(header, payload, callback);
        },
        onMessage(data, isBinary) {
          if (ws.unheard.length === 0 && ws.listenerCount('message') > 0) ws.emit('message', data, isBinary);
          else ws.keepUnheard(data, isBinary);
        },
        onPing(data) {
          ws.emit('ping', data);
        },
        onPong(data) {
          ws.emit('pong', data);
        },
        onCloseFrame(code, reason) {
          ws.onCloseFrame(code, reason);
        },
        onProtocolError(error) {
          ws.closeCode = error.closeCode;
          ws.fail(error);
        },
        onReadResume() {
          ws.unpause(PAUSE_INFLATE);
        },
      },
      {
        role: init.isServer ? 'server' : 'client',
        maxMessageSize: init.options.maxMessageSize,
        maxFrameSize: init.options.maxFrameSize,
        deflate: init.deflate,
      },
    );
    this.onData = this.onData.bind(this);
    this.on('newListener', (event: string | symbol) => {
      if (event === 'message' && this.unheard.length > 0) queueMicrotask(() => this.deliverUnheard());
    });
    this.socket.pause();
    this.socket.on('close', this.onSocketClose.bind(this));
    this.socket.on('error', this.onSocketError.bind(this));
    if (wsOpenChannel.hasSubscribers) wsOpenChannel.publish({ websocket: this, role: this.role });
    this.socket.on('end', this.onSocketEnd.bind(this));
    this.socket.on('drain', this.onDrain.bind(this));
  }

  /**
   * Opens a client connection: the opening handshake of RFC 6455 §4.1 over `ws:` or `wss:`, or
   * with `http2: true` an extended CONNECT on a shared HTTP/2 connection (RFC 8441; see
   * `WebSocketConnectOptions.http2`). Rejects with `WsHandshakeError` (a refused upgrade, a
   * wrong `Sec-WebSocket-Accept`, a subprotocol or extension we did not offer, a server without
   * extended CONNECT, a timeout, an abort) or a connect error.
   */
  static async connect(url: string | URL, options: WebSocketConnectOptions = {}): Promise<WebSocket> {
    const result =
      options.http2 === true
        ? await openWsH2ClientHandshake(url, options)
        : await openWsClientHandshake(url, options);
    const resolved = resolveWebSocketOptions(options);
    const deflate =
      result.deflate === undefined
        ? undefined
        : new PerMessageDeflate(false, result.deflate, result.deflateOptions, resolved.maxMessageSize);
    const ws = new WebSocket({
      socket: result.socket,
      isServer: false,
      head: result.rest,
      url: result.url,
      protocol: result.protocol,
      extensions: result.extensions,
      deflate,
      options: resolved,
    });
    ws.start();
    return ws;
  }

  /**
   * @internal Starts reading on the next turn of the event loop, so that the code that received
   * this WebSocket has attached its listeners before the first message is emitted.
   */
  start(): void {
    setImmediate(WebSocket.begin, this);
  }

  private static begin(ws: WebSocket): void {
    if (ws.readyState === WebSocket.CLOSED) return;
    ws.socket.on('data', ws.onData);
    if (ws.options.heartbeatInterval > 0) {
      ws.heartbeat = ws.wheel.schedule(ws.options.heartbeatInterval, WebSocket.onHeartbeat, ws);
    }
    const head = ws.head;
    ws.head = undefined;
    if (head !== undefined) ws.onData(head);
    if (ws.pauseBits === 0) ws.socket.resume();
  }

  /**
   * Bytes accepted by `send` but not yet handed to the operating system. Over HTTP/2 (RFC 8441)
   * that includes what the peer's flow-control windows hold back and what waits in the shared
   * connection's socket (see ws-h2-stream-transport.ts).
   */
  get bufferedAmount(): number {
    return this.socket.writableLength + this.gatheredBytes + this.core.queuedBytes;
  }

  /**
   * Sends a message: a string as text (UTF-8), bytes as binary, unless `options.binary` says
   * otherwise. The returned promise resolves at once while `bufferedAmount` is below
   * `highWaterMark`, else when the socket has drained (await it to apply backpressure); it
   * rejects with {@link WsClosedError} if the connection is closing or closed (a rejection
   * nobody awaits is not reported as unhandled). `callback` runs once the message was handed to
   * the operating system, or with the error that kept it from it.
   */
  send(
    data: string | Buffer | ArrayBuffer | ArrayBufferView,
    options?: WebSocketSendOptions,
    callback?: WsWriteCallback,
  ): Promise<void> {
    if (this.readyState !== WebSocket.OPEN) return refused(callback);
    let payload: Buffer | string;
    let binary: boolean;
    if (typeof data === 'string') {
      payload = data;
      binary = options?.binary ?? false;
    } else {
      payload = Buffer.isBuffer(data)
        ? data
        : ArrayBuffer.isView(data)
          ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
          : Buffer.from(data);
      binary = options?.binary ?? true;
    }
    this.core.send(payload, binary, options?.compress ?? true, callback);
    return this.bufferedAmount < this.options.highWaterMark ? READY : this.waitDrain();
  }

  /** @internal Sends a frame encoded once for many connections (see `broadcast`). */
  sendEncoded(frame: WsEncodedFrame): boolean {
    if (this.readyState !== WebSocket.OPEN) return false;
    this.core.sendEncoded(frame);
    return true;
  }

  /** @internal True when a pre-encoded server frame can go to this connection as is. */
  get acceptsEncoded(): boolean {
    return this.isServer && this.extensions === '';
  }

  /** Sends a Ping (RFC 6455 §5.5.2), payload at most 125 bytes. False when not open. */
  ping(data?: Buffer | string): boolean {
    if (this.readyState !== WebSocket.OPEN) return false;
    this.core.ping(controlPayload(data));
    return true;
  }

  /** Sends an unsolicited Pong (RFC 6455 §5.5.3). False when not open. */
  pong(data?: Buffer | string): boolean {
    if (this.readyState !== WebSocket.OPEN) return false;
    this.core.pong(controlPayload(data));
    return true;
  }

  /**
   * Starts the close handshake (RFC 6455 §7.1.2): sends a Close after the messages already
   * sent. `code` (1000, 1001-1003, 1007-1014, 3000-4999; default none: an empty Close, which
   * the peer sees as 1005) and `reason` (at most 123 UTF-8 bytes) are checked: a bad one throws
   * {@link WsUsageError}. The socket is destroyed if the peer does not finish within
   * `closeTimeout`.
   */
  close(code?: number, reason?: string): void {
    if (this.readyState !== WebSocket.OPEN) return;
    this.core.close(code, reason);
    this.readyState = WebSocket.CLOSING;
    this.armCloseTimer();
  }

  /** Destroys the connection at once, without the close handshake (close code 1006). */
  terminate(): void {
    this.socket.destroy();
  }

  /**
   * The received messages, in order. Iteration ends when the connection closes; it throws the
   * error that failed the connection (a protocol error, a heartbeat timeout, a socket error).
   * While the consumer is behind by `iteratorQueueLimit` messages, reading pauses. Leaving the
   * loop early stops the buffering but leaves the connection open. One iterator at a time.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<WebSocketMessage> {
    if (this.iterator !== undefined) {
      throw new WsUsageError('AVX_WS_ITERATOR_BUSY', 'a WebSocket has one message iterator at a time');
    }
    const iterator = new WebSocketMessageIterator(this);
    this.iterator = iterator;
    return iterator;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals used by the iterator.

  /** @internal */
  get terminalError(): Error | undefined {
    return this.failure;
  }

  /** @internal */
  pauseForIterator(paused: boolean): void {
    if (paused) this.pause(PAUSE_ITERATOR);
    else this.unpause(PAUSE_ITERATOR);
  }

  /** @internal */
  releaseIterator(iterator: WebSocketMessageIterator): void {
    if (this.iterator === iterator) this.iterator = undefined;
    this.unpause(PAUSE_ITERATOR);
  }

  /** @internal */
  get iteratorQueueLimit(): number {
    return this.options.iteratorQueueLimit;
  }

  // ---------------------------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.alive = true;
    this.core.receive(chunk);
    if (this.core.readPaused) this.pause(PAUSE_INFLATE);
  }

  /**
   * Keeps a message nobody listens to yet (say, the peer spoke before `connect` resolved into
   * the code that attaches listeners); reading pauses once `iteratorQueueLimit` are kept.
   */
  private keepUnheard(data: Buffer, isBinary: boolean): void {
    this.unheard.push({ data, isBinary });
    if (this.unheard.length >= this.options.iteratorQueueLimit) this.pause(PAUSE_UNHEARD);
  }

  private deliverUnheard(): void {
    while (this.unheard.length > 0 && this.listenerCount('message') > 0) {
      const { data, isBinary } = this.unheard.shift()!;
      this.emit('message', data, isBinary);
    }
    if (this.unheard.length === 0) this.unpause(PAUSE_UNHEARD);
  }

  /**
   * Writes a frame. Small frames written in the same turn of the event loop are gathered and
   * go out in one socket write at the end of the turn (one system call for a burst of small
   * messages); a large frame first flushes what was gathered, so order is kept.
   */
  private writeFrame(header: Buffer, payload: Buffer | null, callback: WsWriteCallback | undefined): void {
    const socket = this.socket;
    if (socket.destroyed || socket.writableEnded) {
      if (callback !== undefined) process.nextTick(callback, new WsClosedError());
      return;
    }
    if (payload === null && header.length <= GATHER_MAX) {
      if (this.gathered.length === 0) process.nextTick(WebSocket.flushGathered, this);
      this.gathered.push(header);
      this.gatheredBytes += header.length;
      if (callback !== undefined) this.gatheredCallbacks.push(callback);
      if (this.gatheredBytes >= GATHER_FLUSH) this.flush();
    } else {
      this.flush();
      if (payload === null) {
        socket.write(header, callback);
      } else {
        socket.cork();
        socket.write(header);
        socket.write(payload, callback);
        socket.uncork();
      }
    }
    if (this.core.closeSent && !this.closeWritten && (header[0] & 0x0f) === 0x8) {
      this.closeWritten = true;
      this.afterCloseWritten();
    }
  }

  private static flushGathered(ws: WebSocket): void {
    ws.flush();
  }

  /** Writes the gathered small frames as one buffer. */
  private flush(): void {
    const n = this.gathered.length;
    if (n === 0) return;
    const data = n === 1 ? this.gathered[0] : Buffer.concat(this.gathered, this.gatheredBytes);
    this.gathered = [];
    this.gatheredBytes = 0;
    const socket = this.socket;
    if (this.gatheredCallbacks.length === 0) {
      if (!socket.destroyed) socket.write(data);
      return;
    }
    const callbacks = this.gatheredCallbacks;
    this.gatheredCallbacks = [];
    if (socket.destroyed || socket.writableEnded) {
      for (const cb of callbacks) process.nextTick(cb, new WsClosedError());
      return;
    }
    socket.write(data, (error) => {
      for (const cb of callbacks) cb(error);
    });
  }

  /** The peer's Close arrived (our reply is queued or already went). */
  private onCloseFrame(code: number, reason: string): void {
    this.closeCode = code;
    this.closeReason = reason;
    this.readyState = WebSocket.CLOSING;
    this.armCloseTimer();
    if (this.closeWritten) this.afterCloseWritten();
  }

  /** Our Close is on the wire: the server closes TCP once both Closes passed (RFC 6455 §7.1.1). */
  private afterCloseWritten(): void {
    if (this.core.failed || (this.core.closeReceived && this.isServer)) {
      this.flush();
      this.socket.end();
    }
    // A client waits for the server to close TCP (armCloseTimer bounds the wait).
  }

  private fail(error: Error): void {
    this.failure = error;
    this.readyState = WebSocket.CLOSING;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.armCloseTimer();
    if (this.closeWritten) this.afterCloseWritten();
  }

  private armCloseTimer(): void {
    if (this.closeTimer !== undefined || this.readyState === WebSocket.CLOSED) return;
    this.closeTimer = this.wheel.schedule(this.options.closeTimeout, WebSocket.onCloseTimeout, this);
  }

  private static onCloseTimeout(ws: WebSocket): void {
    ws.socket.destroy();
  }

  private static onHeartbeat(ws: WebSocket): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (!ws.alive) {
      // Dead-peer detection: nothing arrived during a whole period since the last Ping.
      ws.fail(new WsHeartbeatTimeoutError(ws.options.heartbeatInterval));
      ws.socket.destroy();
      return;
    }
    ws.alive = false;
    ws.core.ping();
    ws.heartbeat!.refresh();
  }

  private pause(bit: number): void {
    if (this.pauseBits === 0) this.socket.pause();
    this.pauseBits |= bit;
  }

  private unpause(bit: number): void {
    if ((this.pauseBits & bit) === 0) return;
    this.pauseBits &= ~bit;
    if (this.pauseBits === 0 && this.head === undefined) this.socket.resume();
  }

  private waitDrain(): Promise<void> {
    if (this.drain === undefined) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      promise.catch(noop);
      this.drain = { promise, resolve, reject };
    }
    return this.drain.promise;
  }

  private onDrain(): void {
    const drain = this.drain;
    if (drain !== undefined && this.bufferedAmount < this.options.highWaterMark) {
      this.drain = undefined;
      drain.resolve();
    }
  }

  private onSocketEnd(): void {
    // The peer closed its side: close ours (after what is queued) if Node has not already.
    if (!this.socket.writableEnded) this.socket.end();
  }

  private onSocketError(error: Error): void {
    if (this.failure === undefined && !this.core.closeReceived) {
      this.failure = error;
      if (this.listenerCount('error') > 0) this.emit('error', error);
    }
  }

  /** `server` or `client`, the label of the WebSocket metrics. */
  private get role(): 'server' | 'client' {
    return this.isServer ? 'server' : 'client';
  }

  private onSocketClose(): void {
    if (this.readyState === WebSocket.CLOSED) return;
    this.readyState = WebSocket.CLOSED;
    this.heartbeat?.cancel();
    this.closeTimer?.cancel();
    this.core.destroy();
    const drain = this.drain;
    this.drain = undefined;
    drain?.reject(new WsClosedError());
    if (wsCloseChannel.hasSubscribers) {
      wsCloseChannel.publish({ websocket: this, role: this.role, code: this.closeCode });
    }
    this.emit('close', this.closeCode, this.closeReason);
    this.iterator?.finish();
  }
}

/** The async iterator over a WebSocket's messages. */
class WebSocketMessageIterator implements AsyncIterableIterator<WebSocketMessage> {
  private readonly ws: WebSocket;
  private readonly queue: WebSocketMessage[] = [];
  private waiting:
    | { resolve: (r: IteratorResult<WebSocketMessage>) => void; reject: (e: Error) => void }
    | undefined;
  private done = false;
  private readonly onMessage: (data: Buffer, isBinary: boolean) => void;

  constructor(ws: WebSocket) {
    this.ws = ws;
    this.onMessage = (data, isBinary) => this.push({ data, isBinary });
    ws.on('message', this.onMessage);
    if (ws.readyState === WebSocket.CLOSED) this.done = true;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WebSocketMessage> {
    return this;
  }

  next(): Promise<IteratorResult<WebSocketMessage>> {
    if (this.queue.length > 0) {
      const value = this.queue.shift()!;
      if (this.queue.length === 0) this.ws.pauseForIterator(false);
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return this.end();
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<WebSocketMessage>> {
    this.detach();
    return Promise.resolve({ value: undefined, done: true });
  }

  /** The connection closed. */
  finish(): void {
    this.done = true;
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    this.end().then(waiting.resolve, waiting.reject);
  }

  private push(message: WebSocketMessage): void {
    const waiting = this.waiting;
    if (waiting !== undefined) {
      this.waiting = undefined;
      waiting.resolve({ value: message, done: false });
      return;
    }
    this.queue.push(message);
    if (this.queue.length >= this.ws.iteratorQueueLimit) this.ws.pauseForIterator(true);
  }

  private end(): Promise<IteratorResult<WebSocketMessage>> {
    this.detach();
    const error = this.ws.terminalError;
    return error === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(error);
  }

  private detach(): void {
    this.done = true;
    this.queue.length = 0;
    this.ws.off('message', this.onMessage);
    this.ws.releaseIterator(this);
  }
}

function refused(callback: WsWriteCallback | undefined): Promise<void> {
  const error = new WsClosedError();
  if (callback !== undefined) process.nextTick(callback, error);
  const promise = Promise.reject(error);
  promise.catch(noop);
  return promise;
}

function controlPayload(data: Buffer | string | undefined): Buffer {
  if (data === undefined) return Buffer.alloc(0);
  return typeof data === 'string' ? Buffer.from(data) : data;
}
