// The hub's coded errors (the base and the codes' list are in common/).
import { PhoenixError, type PhoenixErrorOptions } from '../common/errors.js';

/** The hub's store cannot be opened: another schema, not a database, a directory that cannot be written. */
export class StoreOpenError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_STORE_OPEN', message, 2, options);
  }
}


/** An HTTP request the hub refuses: `status` and `kind` are the response's status and its JSON body's `error`. */
export class HttpRequestError extends PhoenixError {
  readonly status: 400 | 404;
  readonly kind: 'bad_request' | 'not_found';

  protected constructor(code: 'PHX_HTTP_BAD_REQUEST' | 'PHX_HTTP_NOT_FOUND', status: 400 | 404, kind: 'bad_request' | 'not_found', message: string) {
    super(code, message, 1);
    this.status = status;
    this.kind = kind;
  }
}

/** A query parameter or path segment the API does not accept (400); the message names it and its value. */
export class BadRequestError extends HttpRequestError {
  constructor(message: string) {
    super('PHX_HTTP_BAD_REQUEST', 400, 'bad_request', message);
  }
}

/** The API has nothing under this name, e.g. a host that never reported (404). */
export class NotFoundError extends HttpRequestError {
  constructor(message: string) {
    super('PHX_HTTP_NOT_FOUND', 404, 'not_found', message);
  }
}
