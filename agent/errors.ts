// The registry of Phoenix's coded errors: every thrown error names its code and the bad value.

export interface PhoenixErrorOptions {
  cause?: unknown;
}

/** Base class: a stable `code`, and the process exit code a CLI should use for it. */
export class PhoenixError extends Error {
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, message: string, exitCode = 1, options: PhoenixErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** A config file (or a value in one) is wrong. `source` is the file, or "defaults"/"flags". */
export class ConfigError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_CONFIG_INVALID', message, 2, options);
  }
}

/** A command-line flag or argument is wrong. */
export class UsageError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_USAGE', message, 2, options);
  }
}

/** The hub's store cannot be opened: another schema, not a database, a directory that cannot be written. */
export class StoreOpenError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_STORE_OPEN', message, 2, options);
  }
}

/** No collector binary could be found by any of the lookup rules. */
export class CollectorNotFoundError extends PhoenixError {
  constructor(message: string) {
    super('PHX_COLLECTOR_NOT_FOUND', message, 3);
  }
}

/** Building the collector distribution failed. */
export class CollectorBuildError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_COLLECTOR_BUILD_FAILED', message, 1, options);
  }
}

/** A pipeline template could not be rendered (unknown placeholder, unreadable file). */
export class PipelineTemplateError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_PIPELINE_TEMPLATE', message, 2, options);
  }
}

/** The collector's own `validate` rejected a rendered pipeline. */
export class PipelineInvalidError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_PIPELINE_INVALID', message, 2, options);
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

/** Shorten an arbitrary value for inclusion in an error message. */
export function showValue(value: unknown, max = 80): string {
  let text: string;
  if (typeof value === 'string') text = `'${value}'`;
  else if (value === undefined) text = 'nothing';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The process simulator cannot run here (no /proc, no coreutils) or could not start its processes. */
export class SimulatorError extends PhoenixError {
  constructor(code: 'PHX_SIMULATOR_UNSUPPORTED' | 'PHX_SIMULATOR_START_FAILED', message: string, options: PhoenixErrorOptions = {}) {
    super(code, message, 1, options);
  }
}

/** A component was used against its calling rules (e.g. written to after it was ended): a bug in the caller. */
export class CallingRuleError extends PhoenixError {
  constructor(code: string, message: string) {
    super(code, message, 1);
  }
}
