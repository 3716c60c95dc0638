// Which hosts an experiment's target selects: every part given must match (kind, each label matcher, host ids).
import type { ExperimentSpec, LabelMatcher } from './spec.js';

export interface TargetHost {
  hostId: string;
  hostKind: 'vm' | 'k8s-node';
  labels: Readonly<Record<string, string>>;
}

/** As Kubernetes' selectors read: a host without the label matches != and notin, never = or in. */
export function matchesLabel(m: LabelMatcher, labels: Readonly<Record<string, string>>): boolean {
  const value = Object.hasOwn(labels, m.name) ? labels[m.name] : undefined;
  switch (m.op) {
    case '=':
      return value === m.values[0];
    case '!=':
      return value !== m.values[0];
    case 'in':
      return value !== undefined && m.values.includes(value);
    case 'notin':
      return value === undefined || !m.values.includes(value);
  }
}

export function matchesTarget(target: ExperimentSpec['target'], host: TargetHost): boolean {
  if (target.kind !== undefined && host.hostKind !== target.kind) return false;
  if (target.hosts !== undefined && !target.hosts.includes(host.hostId)) return false;
  return (target.labels ?? []).every((m) => matchesLabel(m, host.labels));
}
