/**
 * An error that carries the HTTP status to answer with. Handlers throw it to end a request
 * with a client error: `throw new HttpError(404, 'no such user')`.
 */
import { AvxError } from '../core/errors.js';
import { reasonPhrase } from '../core/status.js';

/** An error with an HTTP status; its message is safe to show to the client. */
export class HttpError extends AvxError {
  readonly status: number;
  /** Extra header fields to send with the error response (e.g. `Allow`, `WWW-Authenticate`). */
  readonly headers: Record<string, string> | undefined;

  constructor(status: number, message?: string, headers?: Record<string, string>) {
    super('AVX_HTTP_ERROR', message ?? (reasonPhrase(status) || `HTTP ${status}`));
    this.status = status;
    this.headers = headers;
  }
}
