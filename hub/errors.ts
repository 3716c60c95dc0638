// The hub's coded errors (the base and the codes' list are in common/).
import { PhoenixError, type PhoenixErrorOptions } from '../common/errors.js';

/** The hub's store cannot be opened: another schema, not a database, a directory that cannot be written. */
export class StoreOpenError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_STORE_OPEN', message, 2, options);
  }
}

/**
 * A batch of reports the store must not keep as written: maintenance pruned past its earliest report while the batch
 * was being stored (PostgreSQL, a batch slower than its limit). Nothing of it is stored or acknowledged; the agents send
 * the reports again.
 */
export class StoreRetryError extends PhoenixError {
  constructor(message: string) {
    super('PHX_STORE_RETRY', message, 1);
  }
}

/** Each refusal the API answers with: its HTTP status and its code (docs/errors.md). */
const HTTP_ERRORS = {
  bad_request: [400, 'PHX_HTTP_BAD_REQUEST'],
  unauthorized: [401, 'PHX_HTTP_UNAUTHORIZED'],
  forbidden: [403, 'PHX_HTTP_FORBIDDEN'],
  not_found: [404, 'PHX_HTTP_NOT_FOUND'],
  conflict: [409, 'PHX_HTTP_CONFLICT'],
  payload_too_large: [413, 'PHX_HTTP_PAYLOAD_TOO_LARGE'],
  unsupported_media_type: [415, 'PHX_HTTP_UNSUPPORTED_MEDIA_TYPE'],
  too_many_requests: [429, 'PHX_HTTP_RATE_LIMITED'],
} as const;

/** The JSON `error` of an API refusal. */
export type HttpErrorKind = keyof typeof HTTP_ERRORS;
export type HttpErrorStatus = (typeof HTTP_ERRORS)[HttpErrorKind][0];

/** An HTTP request the hub refuses: `status` and `kind` are the response's status and its JSON body's `error`. */
export class HttpRequestError extends PhoenixError {
  readonly status: HttpErrorStatus;
  readonly kind: HttpErrorKind;
  /** Seconds the client should wait before trying again (a 429's retry-after). */
  readonly retryAfterS: number | undefined;

  constructor(kind: HttpErrorKind, message: string, options: { retryAfterS?: number } = {}) {
    const [status, code] = HTTP_ERRORS[kind];
    super(code, message, 1);
    this.status = status;
    this.kind = kind;
    this.retryAfterS = options.retryAfterS;
  }
}

/** A query parameter or path segment the API does not accept (400); the message names it and its value. */
export class BadRequestError extends HttpRequestError {
  constructor(message: string) {
    super('bad_request', message);
  }
}

/** The API has nothing under this name, e.g. a host that never reported (404). */
export class NotFoundError extends HttpRequestError {
  constructor(message: string) {
    super('not_found', message);
  }
}
