// The agent's coded errors (the base and the codes' list are in common/): each names its code and the bad value.
import { PhoenixError, type PhoenixErrorOptions } from '../common/errors.js';

/** No collector binary could be found by any of the lookup rules. */
export class CollectorNotFoundError extends PhoenixError {
  constructor(message: string) {
    super('PHX_COLLECTOR_NOT_FOUND', message, 3);
  }
}

/** A port a variant (or the agent's health endpoint) needs is already bound by something else. */
export class PortInUseError extends PhoenixError {
  readonly port: number;
  readonly variant: string;
  /** `variant` is a variant's name, or null for the agent's own health endpoint. */
  constructor(variant: string | null, role: string, port: number, host = '127.0.0.1') {
    super(
      'PHX_PORT_IN_USE',
      variant === null
        ? `agent ${role}: port ${port} is already in use on ${host}; free it or choose another (health.port in the config)`
        : `variant '${variant}': ${role} port ${port} is already in use on ${host}; free it or choose other ports (ports.base in the config)`,
      1,
    );
    this.port = port;
    this.variant = variant ?? 'agent';
  }
}

/** A collector did not become ready (exited, or its health check never answered). */
export class CollectorStartError extends PhoenixError {
  readonly variant: string;
  constructor(variant: string, message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_COLLECTOR_START_FAILED', `variant '${variant}': ${message}`, 1, options);
    this.variant = variant;
  }
}

/** A one-shot run could not complete within its deadline. */
export class TimeoutError extends PhoenixError {
  constructor(message: string) {
    super('PHX_TIMEOUT', message, 1);
  }
}

/** An assignment from the hub that this agent will not run as sent (a template whose sha256 differs, a bad pattern). */
export class AssignmentError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_ASSIGNMENT_INVALID', message, 2, options);
  }
}

/** A collector binary did not list its components (`<collector> components` failed or printed no YAML list). */
export class CollectorComponentsError extends PhoenixError {
  constructor(binary: string, message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_COLLECTOR_COMPONENTS', `${binary} components: ${message}`, 1, options);
  }
}

/** The collector's own `validate` refused a rendered config; the message is the collector's. */
export class CollectorConfigError extends PhoenixError {
  readonly variant: string;
  constructor(variant: string, message: string) {
    super('PHX_COLLECTOR_INVALID', `variant '${variant}': the collector refused its config: ${message}`, 2);
    this.variant = variant;
  }
}
