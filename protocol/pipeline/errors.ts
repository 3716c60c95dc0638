// The coded errors of pipeline templates, shared by the hub (checking an upload) and the agent (rendering one).
import { PhoenixError, type PhoenixErrorOptions } from '../../common/errors.js';

/** A pipeline template could not be rendered (unknown placeholder, unreadable file). */
export class PipelineTemplateError extends PhoenixError {
  constructor(message: string, options: PhoenixErrorOptions = {}) {
    super('PHX_PIPELINE_TEMPLATE', message, 2, options);
  }
}
