// Where the agent finds its built-in pipeline templates.
import path from 'node:path';
import { packageRoot } from '../common/paths.js';

/** The built-in variants' templates: $PHOENIX_PIPELINES_DIR (e.g. a Kubernetes ConfigMap), else Phoenix's own. */
export function pipelinesDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PHOENIX_PIPELINES_DIR || path.join(packageRoot(), 'pipelines');
}
