/**
 * Server push as the client offers it (RFC 9113 §8.4): with `ClientOptions.http2Push` set, HTTP/2
 * connections leave SETTINGS_ENABLE_PUSH at 1 and hand every acceptable PUSH_PROMISE to that
 * callback as a {@link ClientPush}. Without it (the default) the client announces
 * SETTINGS_ENABLE_PUSH = 0 and a server that pushes anyway breaks the connection
 * (PROTOCOL_ERROR). Promises for another authority or scheme than the connection's, or for a
 * method other than GET or HEAD, are refused (RST_STREAM PROTOCOL_ERROR, §8.4.1). Pushed
 * responses come as received: the dispatch chain (redirect, retry, decompression, ...) only
 * runs for requests the client sent.
 */
import type { Headers } from '../core/headers.js';
import type { ClientResponse } from './client-response.js';

/** A response the server promised to push. */
export interface ClientPush {
  /** The promised request's method: GET or HEAD. */
  readonly method: string;
  /** The promised request's URL. */
  readonly url: URL;
  /** The promised request's header fields (pseudo-header fields excluded). */
  readonly headers: Headers;
  /** The URL of the request the server pushed it with. */
  readonly initiator: URL;
  /**
   * The pushed response, once its head arrives; rejects when the server resets the stream, the
   * connection is lost, or {@link cancel} is called. Read its body or cancel it: an unread
   * pushed body holds its stream's flow-control window like any other response.
   */
  readonly response: Promise<ClientResponse>;
  /** Declines the push (RST_STREAM CANCEL, RFC 9113 §8.4.2). */
  cancel(): void;
}

/** Called for each push a server promises (see `ClientOptions.http2Push`). */
export type ClientPushHandler = (push: ClientPush) => void;
