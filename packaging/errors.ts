// Packaging's coded errors (the base and the codes' list are in common/).
import { PhoenixError, type PhoenixErrorOptions } from '../common/errors.js';

/** Building the collector distribution failed. */
export class CollectorBuildError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_COLLECTOR_BUILD_FAILED', message, 1, options);
  }
}

/** A build tool the tests and packaging fetch through Go's module proxy (helm, the Kubernetes API schemas) is not to be had. */
export class PackagingToolError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_PACKAGING_TOOL', message, 1, options);
  }
}
