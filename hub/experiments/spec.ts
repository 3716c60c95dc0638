// An experiment's definition as people write it (YAML or JSON, through the API, the CLI or the page), validated
// field by field, and its normalized form with every default filled in: what the engine runs and the store keeps.
import { z } from 'zod';
import { durationField } from '../../common/duration-schema.js';
import { PhoenixError } from '../../common/errors.js';
import { formatIssue } from '../../common/schema-issue.js';
import { parseYamlMapping } from '../../common/yaml-file.js';
import { criticalPattern, DEFAULT_CRITICAL_PATTERNS } from '../../protocol/critical-patterns.js';

/** A definition is wrong: the message names the field and the value. */
export class ExperimentSpecError extends PhoenixError {
  constructor(message: string) {
    super('PHX_EXPERIMENT_INVALID', message, 2);
  }
}

/** A share of the target's hosts: a number of hosts, or a percentage of them (each rounded up, at least one host). */
export type HostShare = { hosts: number } | { percent: number };

export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | 'in' | 'notin';
  /** One value for = and !=. */
  values: string[];
}

export interface SideSpec {
  /** A pipeline in the hub's catalog: its name (the newest version), or name@sha256:<hex> for one version. */
  pipeline: string;
  parameters: { cpuThreshold: number; memoryThresholdBytes: number };
}

export interface ExperimentSpec {
  name: string;
  description?: string;
  baseline: SideSpec;
  candidate: SideSpec;
  /** Both collectors' scrape interval and the Prometheus exporter's metric expiration, in ms. */
  parameters: { collectionInterval: number; metricExpiration: number };
  critical: { patterns: string[] };
  /** Every part given must match (an empty target is every host). */
  target: { kind?: 'vm' | 'k8s-node'; labels?: LabelMatcher[]; hosts?: string[] };
  /** `hold` in ms: how long every host started so far must hold the criteria before the next wave. */
  rollout: { canary: HostShare; waves: HostShare; hold: number };
  /** In ms from its start; null: until stopped. */
  duration: number | null;
  /**
   * Fractions (0.5 = 50%) except cpuRatio (k in candidate CPU <= k x baseline) and restarts (a count). The loss
   * criteria (issue 15) hold on every host, judged on the candidate's worst: top*Coverage, processes of the host's top K
   * it shows by name (mean per report; all of them on a host that ranks fewer); *Conservation, how far its total may
   * be from the host's, as a fraction (0.05: within 5%); flapping and switches, per hour.
   */
  criteria: {
    reduction?: number;
    retention: number;
    cpuRatio?: number;
    restarts?: number;
    topCpuCoverage?: number;
    topRssCoverage?: number;
    cpuConservation?: number;
    rssConservation?: number;
    flapping?: number;
    switches?: number;
  };
  guardrails: { criticalLossReports: number; failedHosts: number };
}

const NAME = /^[a-z0-9][a-z0-9-]{0,49}$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;
const PIPELINE_REF = /^[a-z][a-z0-9-]{0,62}(@sha256:[0-9a-f]{64})?$/;
const MATCHER_TEXT = /^\s*([A-Za-z_][A-Za-z0-9_.-]{0,62})\s*(?:(!=|==|=)\s*(.*?)|\s(in|notin)\s*\((.*)\))\s*$/;
const PERCENT = /^(\d+(?:\.\d+)?)\s*%$/;

/** A number of hosts (1 or more) or 'P%' (0 < P <= 100). */
const HOST_SHARE = "must be a number of hosts (1 or more) or a percentage such as '10%'";
// Each branch carries the message too: a union reports a branch's own issue when the value has that branch's type.
const hostShare = z.union([z.number().int({ error: HOST_SHARE }).min(1, { error: HOST_SHARE }).max(1_000_000), z.string().regex(PERCENT, { error: HOST_SHARE })], { error: HOST_SHARE }).transform((value, ctx): HostShare => {
  if (typeof value === 'number') return { hosts: value };
  const percent = Number(PERCENT.exec(value)![1]);
  if (!(percent > 0 && percent <= 100)) {
    ctx.addIssue({ code: 'custom', message: 'must be a percentage above 0% and at most 100%' });
    return z.NEVER;
  }
  return { percent };
});

/** A fraction 0..1, or 'P%' (0..100). */
const RATIO = "must be a fraction from 0 to 1 or a percentage such as '50%'";
const ratio = z.union([z.number().min(0, { error: RATIO }).max(1, { error: RATIO }), z.string().regex(PERCENT, { error: RATIO })], { error: RATIO }).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const percent = Number(PERCENT.exec(value)![1]);
  if (percent > 100) {
    ctx.addIssue({ code: 'custom', message: 'must be a percentage from 0% to 100%' });
    return z.NEVER;
  }
  return percent / 100;
});

/** Processes of a host's top K (K is at most 100). */
const TOP_COVERAGE = 'must be a whole number of processes from 1 to 100';
const topCoverage = z.number({ error: TOP_COVERAGE }).int({ error: TOP_COVERAGE }).min(1, { error: TOP_COVERAGE }).max(100, { error: TOP_COVERAGE });
/** Events per hour on one host. */
const PER_HOUR = 'must be a number per hour, 0 or more';
const perHour = z.number({ error: PER_HOUR }).min(0, { error: PER_HOUR }).max(1_000_000, { error: PER_HOUR });

const labelValue = z.string().max(256, { error: 'label values are at most 256 characters' });

const matcherObject = z
  .object({
    name: z.string().regex(LABEL_NAME, { error: 'label names are letters, digits, _ . - (max 63)' }),
    op: z.enum(['=', '!=', 'in', 'notin'], { error: "must be one of =, !=, in, notin" }),
    values: z.array(labelValue).min(1, { error: 'must list at least one value' }).max(100),
  })
  .strict()
  .superRefine((m, ctx) => {
    if ((m.op === '=' || m.op === '!=') && m.values.length !== 1) ctx.addIssue({ code: 'custom', path: ['values'], message: `must hold exactly one value for ${m.op}` });
  });

/** "env=prod" (or "env==prod"), "tier!=db", "team in (a, b)", "zone notin (x)" or {name, op, values}. */
const labelMatcher = z.union([z.string().max(2000), matcherObject], { error: "must be a matcher such as 'env=prod', 'tier!=db', 'team in (a,b)' or {name, op, values}" }).transform((value, ctx): LabelMatcher => {
  if (typeof value !== 'string') return value;
  const m = MATCHER_TEXT.exec(value);
  if (!m) {
    ctx.addIssue({ code: 'custom', message: "must be a matcher such as 'env=prod', 'tier!=db', 'team in (a,b)' or 'zone notin (x)'" });
    return z.NEVER;
  }
  // 'env==prod' is 'env=prod', as Kubernetes' label selectors read it.
  const op = (m[2] === '==' ? '=' : (m[2] ?? m[4])) as LabelMatcher['op'];
  const values = m[2] ? [m[3]!] : m[5]!.split(',').map((v) => v.trim());
  if (values.some((v) => v.length > 256) || (op !== '=' && op !== '!=' && (values.length > 100 || values.some((v) => v === '')))) {
    ctx.addIssue({ code: 'custom', message: 'must list 1 to 100 non-empty values of at most 256 characters' });
    return z.NEVER;
  }
  return { name: m[1]!, op, values };
});

const side = z
  .object({
    pipeline: z.string({ error: "must name a pipeline in the catalog, e.g. 'optimized-b' or 'mine@sha256:<hex>'" }).regex(PIPELINE_REF, { error: "must name a pipeline in the catalog, e.g. 'optimized-b' or 'mine@sha256:<hex>'" }),
    parameters: z
      .object({
        cpuThreshold: z.number().gt(0).max(64, { error: 'must be a fraction of one core, 0 < x <= 64' }).default(0.05),
        memoryThresholdBytes: z.number().int({ error: 'must be a whole number of bytes' }).min(1).max(2 ** 50).default(256 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const schema = z
  .object({
    name: z.string({ error: 'must be a name' }).regex(NAME, { error: 'must be 1-50 lowercase letters, digits and dashes, starting with a letter or digit' }),
    description: z.string().max(2000, { error: 'must be at most 2000 characters' }).optional(),
    baseline: side,
    candidate: side,
    parameters: z
      .object({
        collectionInterval: durationField('collector scrape interval', 1000, 3_600_000).prefault('10s'),
        metricExpiration: durationField('Prometheus exporter metric expiration', 1000, 86_400_000).prefault('1m'),
      })
      .strict()
      .prefault({}),
    critical: z
      .object({ patterns: z.array(criticalPattern).min(1, { error: 'must list at least one pattern' }).max(500).default([...DEFAULT_CRITICAL_PATTERNS]) })
      .strict()
      .prefault({}),
    target: z
      .object({
        kind: z.enum(['vm', 'k8s-node'], { error: "must be 'vm' or 'k8s-node'" }).optional(),
        labels: z.array(labelMatcher).max(64).optional(),
        hosts: z.array(z.string().min(1).max(253)).min(1, { error: 'must list at least one host id (or leave hosts out)' }).max(100_000).optional(),
      })
      .strict()
      .prefault({}),
    rollout: z
      .object({
        canary: hostShare.prefault(1),
        waves: hostShare.prefault('100%'),
        hold: durationField('time each wave holds the criteria before the next', 0, 7 * 86_400_000).prefault('5m'),
      })
      .strict()
      .prefault({}),
    duration: durationField('experiment length', 1000, 366 * 86_400_000).nullable().default(null),
    criteria: z
      .object({
        reduction: ratio.optional(),
        retention: ratio.prefault(1),
        cpuRatio: z.number().gt(0, { error: 'must be above 0' }).max(1000).optional(),
        restarts: z.number().int({ error: 'must be a whole number' }).min(0).max(1_000_000).optional(),
        topCpuCoverage: topCoverage.optional(),
        topRssCoverage: topCoverage.optional(),
        cpuConservation: ratio.optional(),
        rssConservation: ratio.optional(),
        flapping: perHour.optional(),
        switches: perHour.optional(),
      })
      .strict()
      .prefault({}),
    guardrails: z
      .object({
        criticalLossReports: z.number().int({ error: 'must be a whole number' }).min(1).max(10_000).default(3),
        failedHosts: z.number().int({ error: 'must be a whole number' }).min(1).max(1_000_000).default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** Validates a definition object; `source` starts every message (e.g. "definition" or a file name). */
export function parseExperimentSpec(input: unknown, source: string): ExperimentSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ExperimentSpecError(`${source}: an experiment definition must be a mapping of fields`);
  }
  const result = schema.safeParse(input);
  if (!result.success) throw new ExperimentSpecError(formatIssue(source, result.error.issues[0]!, input));
  const spec = result.data;
  const out: ExperimentSpec = { ...spec, target: compact(spec.target), criteria: compact(spec.criteria) } as ExperimentSpec;
  if (spec.description === undefined) delete out.description;
  return out;
}

/** Validates a definition written in YAML or JSON (JSON is YAML). */
export function parseExperimentText(text: string, source: string): ExperimentSpec {
  let raw: Record<string, unknown>;
  try {
    raw = parseYamlMapping(text, source);
  } catch (error) {
    throw new ExperimentSpecError((error as Error).message);
  }
  return parseExperimentSpec(raw, source);
}

/** The normalized definition as JSON with its keys in a stable order: the same definition, the same text. */
export function canonicalSpecJson(spec: ExperimentSpec): string {
  return JSON.stringify(sortKeys(spec));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
