// The hub's coded errors (the base and the codes' list are in common/).
import { PhoenixError, type PhoenixErrorOptions } from '../common/errors.js';

/** The hub's store cannot be opened: another schema, not a database, a directory that cannot be written. */
export class StoreOpenError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_STORE_OPEN', message, 2, options);
  }
}

/** The hub cannot listen on its address: the port is taken, or the address is not this machine's or not allowed. */
export class HubListenError extends PhoenixError {
  constructor(host: string, port: number, cause: unknown) {
    super('PHX_LISTEN_FAILED', `cannot listen: ${(cause as Error)?.message ?? String(cause)} (--host ${host} --port ${port})`, 1, { cause });
  }
}
