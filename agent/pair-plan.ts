// What a pair of collectors runs: both templates with their parameters and the critical patterns — the agent's own
// pair from its config, or an experiment's from the hub's assignment.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AgentConfig } from './config/load.js';
import { PipelineTemplateError } from '../protocol/pipeline/errors.js';
import type { Assignment } from '../protocol/assignment.js';

export interface VariantPlan {
  name: string;
  template: string;
  /** Where the template came from, for messages: its file, or the experiment that sent it. */
  source: string;
  cpuThreshold: number;
  memoryThresholdBytes: number;
}

export interface PairPlan {
  variants: readonly [VariantPlan, VariantPlan];
  collectionIntervalMs: number;
  metricExpirationMs: number;
  criticalPatterns: readonly string[];
  /** The assignment this pair runs, or null for the agent's own pair. */
  experiment: { id: string; revision: number } | null;
}

/** The agent's own pair, as its config names it (the template files read now). */
export async function ownPair(config: AgentConfig): Promise<PairPlan> {
  const variants = await Promise.all(
    config.experiment.variants.map(async (spec): Promise<VariantPlan> => {
      let template: string;
      try {
        template = await readFile(spec.templatePath, 'utf8');
      } catch (error) {
        throw new PipelineTemplateError(`variant '${spec.name}': cannot read pipeline template ${spec.templatePath}`, { cause: error });
      }
      return {
        name: spec.name,
        template,
        source: spec.templatePath,
        cpuThreshold: config.pipeline.cpuThreshold,
        memoryThresholdBytes: config.pipeline.memoryThresholdBytes,
      };
    }),
  );
  return {
    variants: variants as [VariantPlan, VariantPlan],
    collectionIntervalMs: config.pipeline.collectionInterval,
    metricExpirationMs: config.pipeline.metricExpiration,
    criticalPatterns: config.critical.patterns,
    experiment: null,
  };
}

/** The pair an assignment describes (checked by the caller: see assignment/check.ts). */
export function assignedPair(assignment: Assignment): PairPlan {
  const source = `experiment '${assignment.experimentId}' revision ${assignment.revision}`;
  const variants = assignment.variants.map(
    (v): VariantPlan => ({
      name: v.name,
      template: v.template,
      source: `${source}, variant '${v.name}'`,
      cpuThreshold: v.parameters.cpuThreshold,
      memoryThresholdBytes: v.parameters.memoryThresholdBytes,
    }),
  );
  return {
    variants: variants as [VariantPlan, VariantPlan],
    collectionIntervalMs: assignment.parameters.collectionIntervalMs,
    metricExpirationMs: assignment.parameters.metricExpirationMs,
    criticalPatterns: assignment.critical.patterns,
    experiment: { id: assignment.experimentId, revision: assignment.revision },
  };
}

/** sha256 of a template's UTF-8 text, as an assignment names it. */
export function templateSha256(template: string): string {
  return createHash('sha256').update(template, 'utf8').digest('hex');
}
