/**
 * One attempt at one request on the pool: the request, the promise it settles, where it stands
 * (queued, sent, receiving its body, done), and the connection carrying it. It is the single
 * place that settles the caller's promise and ends or fails the response body, so every request
 * settles exactly once whatever happens first: response, abort, timeout or connection loss.
 *
 * It is also the body's {@link BodySource}: backpressure from the reader pauses the connection
 * only while this exchange is the one being received. And it is the `AbortSignal` listener
 * (`handleEvent`), so listening for cancellation allocates no closure.
 */
import { performance } from 'node:perf_hooks';
import { AvxError } from '../core/errors.js';
import type { BodySource, IncomingBody } from '../core/incoming-body.js';
import {
  type ClientRequestMessage,
  clientRequestErrorChannel,
  clientRequestFinishChannel,
  clientRequestStartChannel,
  clientResponseHeadersChannel,
} from './client-diagnostics.js';
import { RequestAbortedError } from './client-errors.js';
import type { ClientRequest } from './client-request.js';
import type { ClientResponse } from './client-response.js';

/** Where an exchange stands. */
export const ExchangeState = {
  /** Waiting in the pool for a connection. */
  Queued: 0,
  /** Written (or being written) to a connection; no response head yet. */
  Sent: 1,
  /** The response head arrived; the body is arriving. */
  Streaming: 2,
  /** Settled: the body ended, or the exchange failed. */
  Done: 3,
} as const;
export type ExchangeState = (typeof ExchangeState)[keyof typeof ExchangeState];

/** The connection side an exchange talks to (implemented by connection drivers). */
export interface ExchangeCarrier {
  /** The exchange was aborted while on this connection: it cannot go on. */
  abortExchange(exchange: ClientExchange, reason: Error): void;
  /** Stop reading for now (body backpressure), if `exchange` is the one being received. */
  pauseFor(exchange: ClientExchange): void;
  /** Read again. */
  resumeFor(exchange: ClientExchange): void;
}

/** The queue side an exchange talks to (implemented by the pool). */
export interface ExchangeQueue {
  /** A queued exchange was aborted: forget it. */
  dropQueued(exchange: ClientExchange): void;
}

/** Converts an abort reason into the error the caller sees. */
export function abortError(origin: string, reason: unknown): Error {
  return reason instanceof AvxError ? reason : new RequestAbortedError(origin, reason);
}

/** One request attempt travelling through a pool and a connection. */
export class ClientExchange implements BodySource {
  state: ExchangeState = ExchangeState.Queued;
  readonly request: ClientRequest;
  readonly origin: string;
  /** The connection carrying it, once sent. */
  carrier: ExchangeCarrier | undefined = undefined;
  /** The response body, once the head arrived. */
  body: IncomingBody | undefined = undefined;
  /** The one retry on a connection that died before the response began has been used. */
  retried = false;
  /** The `avx:client:*` diagnostics message of this attempt, when someone listened at its start. */
  diagnostics: ClientRequestMessage | undefined = undefined;
  readonly #queue: ExchangeQueue;
  #resolve: (response: ClientResponse) => void;
  #reject: (error: Error) => void;

  constructor(
    queue: ExchangeQueue,
    request: ClientRequest,
    origin: string,
    resolve: (response: ClientResponse) => void,
    reject: (error: Error) => void,
  ) {
    this.#queue = queue;
    this.request = request;
    this.origin = origin;
    this.#resolve = resolve;
    this.#reject = reject;
    const signal = request.signal;
    if (signal !== undefined) signal.addEventListener('abort', this);
    if (clientRequestStartChannel.hasSubscribers) {
      const message: ClientRequestMessage = {
        request,
        origin,
        startTime: performance.now(),
        response: undefined,
        error: undefined,
        span: undefined,
      };
      this.diagnostics = message;
      clientRequestStartChannel.publish(message);
    }
  }

  /** True once settled. */
  get done(): boolean {
    return this.state === ExchangeState.Done;
  }

  /** The response head arrived: resolve the caller's promise. */
  respond(response: ClientResponse): void {
    if (this.state === ExchangeState.Done) return;
    this.state = ExchangeState.Streaming;
    this.body = response.body;
    const message = this.diagnostics;
    if (message !== undefined) {
      message.response = response;
      if (clientResponseHeadersChannel.hasSubscribers) clientResponseHeadersChannel.publish(message);
    }
    this.#resolve(response);
  }

  /** The body is complete. */
  finish(trailers: string[] | undefined): void {
    if (this.state === ExchangeState.Done) return;
    this.state = ExchangeState.Done;
    this.#detach();
    this.body?.end(trailers);
    const message = this.diagnostics;
    if (message !== undefined && clientRequestFinishChannel.hasSubscribers) {
      clientRequestFinishChannel.publish(message);
    }
  }

  /** The exchange failed: rejects the promise, or fails the body when the head had arrived. */
  fail(error: Error): void {
    const state = this.state;
    if (state === ExchangeState.Done) return;
    this.state = ExchangeState.Done;
    this.#detach();
    const message = this.diagnostics;
    if (message !== undefined) {
      message.error = error;
      if (clientRequestErrorChannel.hasSubscribers) clientRequestErrorChannel.publish(message);
    }
    if (state === ExchangeState.Streaming) this.body!.fail(error);
    else this.#reject(error);
  }

  /** Cancels the exchange wherever it is. */
  abort(reason: Error): void {
    const state = this.state;
    if (state === ExchangeState.Done) return;
    this.fail(reason);
    if (state === ExchangeState.Queued) this.#queue.dropQueued(this);
    else this.carrier?.abortExchange(this, reason);
  }

  /** `AbortSignal` listener. */
  handleEvent(): void {
    this.abort(abortError(this.origin, this.request.signal?.reason));
  }

  // BodySource: the reader's backpressure and cancellation.
  pause(): void {
    if (this.state === ExchangeState.Streaming) this.carrier?.pauseFor(this);
  }

  resume(): void {
    if (this.state === ExchangeState.Streaming) this.carrier?.resumeFor(this);
  }

  abandon(reason: Error): void {
    if (this.state !== ExchangeState.Streaming) return;
    this.state = ExchangeState.Done;
    this.#detach();
    const message = this.diagnostics;
    if (message !== undefined) {
      message.error = reason;
      if (clientRequestErrorChannel.hasSubscribers) clientRequestErrorChannel.publish(message);
    }
    this.carrier?.abortExchange(this, reason);
  }

  #detach(): void {
    const signal = this.request.signal;
    if (signal !== undefined) signal.removeEventListener('abort', this);
  }
}
