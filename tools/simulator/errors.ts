// The process simulator's coded errors (the base and the codes' list are in common/).
import { PhoenixError, type PhoenixErrorOptions } from '../../common/errors.js';

/** The process simulator cannot run here (no /proc, no coreutils) or could not start its processes. */
export class SimulatorError extends PhoenixError {
  constructor(code: 'PHX_SIMULATOR_UNSUPPORTED' | 'PHX_SIMULATOR_START_FAILED', message: string, options: PhoenixErrorOptions = {}) {
    super(code, message, 1, options);
  }
}
