// What the hub sends a host of an experiment: both templates with their sha256 and parameters, the critical
// patterns and the end time, built from the accepted definition and the templates it resolved.
import type { Assignment } from '../../protocol/assignment.js';
import type { ExperimentSpec } from './spec.js';

/** The templates an experiment resolved when it was created, kept with it (what runs is what was accepted). */
export interface ResolvedTemplates {
  baseline: { pipeline: string; sha256: string; content: string };
  candidate: { pipeline: string; sha256: string; content: string };
}

/** What the store keeps as an experiment's `spec`: the definition, defaults filled in, and its templates. */
export interface StoredDefinition {
  definition: ExperimentSpec;
  templates: ResolvedTemplates;
}

/** A variant's name on the agent: the template's name, cut to the protocol's 32 characters; the two kept apart. */
export function variantNames(templates: ResolvedTemplates): [string, string] {
  const a = templates.baseline.pipeline.slice(0, 32);
  let b = templates.candidate.pipeline.slice(0, 32);
  if (b === a) b = `${templates.candidate.pipeline.slice(0, 22)}-candidate`;
  return [a, b];
}

export function buildAssignment(id: string, revision: number, endsAt: number | null, stored: StoredDefinition): Assignment {
  const { definition: spec, templates } = stored;
  const [a, b] = variantNames(templates);
  const variant = (name: string, t: ResolvedTemplates['baseline'], side: ExperimentSpec['baseline']) => ({
    name,
    template: t.content,
    sha256: t.sha256,
    parameters: { cpuThreshold: side.parameters.cpuThreshold, memoryThresholdBytes: side.parameters.memoryThresholdBytes },
  });
  return {
    experimentId: id,
    revision,
    endsAt: endsAt === null ? null : new Date(endsAt).toISOString(),
    parameters: { collectionIntervalMs: spec.parameters.collectionInterval, metricExpirationMs: spec.parameters.metricExpiration },
    critical: { patterns: [...spec.critical.patterns] },
    variants: [variant(a, templates.baseline, spec.baseline), variant(b, templates.candidate, spec.candidate)],
  };
}
