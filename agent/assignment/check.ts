// What the agent checks of an assignment before it runs anything of it: the hub's word is untrusted input.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Assignment } from '../../protocol/assignment.js';
import { criticalPattern } from '../../protocol/critical-patterns.js';
import { assertPipelinePolicy } from '../../protocol/pipeline/policy.js';
import { collectorProcessors } from '../collector/components.js';
import type { AgentConfig } from '../config/load.js';
import { AssignmentError, CollectorConfigError } from '../errors.js';
import type { RenderedVariant } from '../experiment.js';
import { templateSha256 } from '../pair-plan.js';
import { collectorError, collectorValidate } from '../validate.js';

/** Throws AssignmentError for what the message's schema cannot see: each template's hash, the patterns, the names. */
export function checkAssignment(assignment: Assignment): void {
  const [a, b] = assignment.variants;
  if (a.name === b.name) throw new AssignmentError(`experiment '${assignment.experimentId}': both variants are named '${a.name}'`);
  for (const v of assignment.variants) {
    const actual = templateSha256(v.template);
    if (actual !== v.sha256) {
      throw new AssignmentError(`experiment '${assignment.experimentId}': variant '${v.name}': the template's sha256 is ${actual}, not ${v.sha256} as sent`);
    }
  }
  for (const [index, pattern] of assignment.critical.patterns.entries()) {
    const result = criticalPattern.safeParse(pattern);
    if (!result.success) {
      throw new AssignmentError(
        `experiment '${assignment.experimentId}': critical.patterns.${index} ${JSON.stringify(pattern.slice(0, 80))} ${result.error.issues[0]!.message}`,
      );
    }
  }
}

/**
 * The check a pushed pair's rendered configs must pass before either starts: the pipeline policy (only the host
 * metrics receiver, the build's processors, the Prometheus exporter and health check on the ports this agent
 * assigned; no file, no other address), then the collector's own `validate` of each file.
 */
export function pushedPairCheck(config: AgentConfig, collectorBinary: string) {
  return async (rendered: readonly RenderedVariant[]): Promise<void> => {
    const processors = await collectorProcessors(collectorBinary);
    for (const v of rendered) {
      assertPipelinePolicy(v.config, { ports: v.ports, rootPath: config.pipeline.rootPath, processors }, v.plan.source);
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'phoenix-assignment-'));
    try {
      for (const v of rendered) {
        const file = path.join(dir, `${v.name}.yaml`);
        await writeFile(file, v.config, { mode: 0o600 });
        const { code, output } = await collectorValidate(collectorBinary, file);
        if (code !== 0) throw new CollectorConfigError(v.name, collectorError(output) || `collector validate exited with ${code}`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
