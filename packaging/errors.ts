// Packaging's coded errors (the base and the codes' list are in common/).
import { PhoenixError, type PhoenixErrorOptions } from '../common/errors.js';

/** Building the collector distribution failed. */
export class CollectorBuildError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_COLLECTOR_BUILD_FAILED', message, 1, options);
  }
}
