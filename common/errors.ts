// The base of Phoenix's coded errors, shared by every program: a stable code, a message naming the bad value, an exit code.
// Each code is listed once in ./error-codes.ts and documented in docs/errors.md (a test keeps the three in step).
import type { ErrorCode } from './error-codes.js';

export interface PhoenixErrorOptions {
  cause?: unknown;
}

/** Base class: a stable `code`, and the process exit code a CLI should use for it. */
export class PhoenixError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, exitCode = 1, options: PhoenixErrorOptions = {}) {
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

/** A component was used against its calling rules (e.g. written to after it was ended): a bug in the caller. */
export class CallingRuleError extends PhoenixError {
  constructor(code: ErrorCode, message: string) {
    super(code, message, 1);
  }
}

/** A server cannot listen on its address: the port is taken, or the address is not this machine's or not allowed. */
export class ListenError extends PhoenixError {
  constructor(what: string, host: string, port: number, cause: unknown) {
    super('PHX_LISTEN_FAILED', `${what}: cannot listen: ${(cause as Error)?.message ?? String(cause)} (${host}:${port})`, 1, { cause });
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

/** The value at `at` (a schema issue's path) inside `root`, to show in a message; undefined where the path ends early. */
export function valueAt(root: unknown, at: readonly PropertyKey[]): unknown {
  let node: unknown = root;
  for (const key of at) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
