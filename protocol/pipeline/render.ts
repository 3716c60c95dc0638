// Renders a pipeline template: fills {{placeholders}} with values escaped for where they stand.
import { PipelineTemplateError } from './errors.js';
import { formatDuration } from '../../common/duration.js';

export interface VariantPorts {
  exporter: number;
  telemetry: number;
  health: number;
}

export interface PipelineParameters {
  ports: VariantPorts;
  instanceId: string;
  collectionIntervalMs: number;
  metricExpirationMs: number;
  rootPath: string;
  criticalPatterns: readonly string[];
  cpuThreshold: number;
  memoryThresholdBytes: number;
  /** optimized-c's sticky limit, in CPU-seconds over a process's life; default stickyCpuSeconds(cpuThreshold). */
  cpuSecondsSticky?: number;
}

/** How long a process at the CPU threshold runs, on one core, before optimized-c keeps its own series for good. */
export const STICKY_WINDOW_S = 300;

/**
 * The default {{cpu_seconds_sticky}}: cpuThreshold × 5 min, what a process at the threshold uses in STICKY_WINDOW_S
 * on a one-core host. Utilization is a share of the whole machine, so on N cores it gets there in 5/N min.
 */
export function stickyCpuSeconds(cpuThreshold: number): number {
  return cpuThreshold * STICKY_WINDOW_S;
}

/** Every template must use these, or the agent could not scrape it or the comparison would not be fair. */
export const REQUIRED_PLACEHOLDERS = ['exporter_port', 'telemetry_port', 'health_port', 'collection_interval', 'metric_expiration'] as const;

const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*\}\}/g;

/** `^(?:a|b)$`: the one anchored regex both the collector (RE2) and Phoenix (JS) match names with. */
export function criticalRegex(patterns: readonly string[]): string {
  return `^(?:${patterns.join('|')})$`;
}

// In collector YAML a literal `$` must be `$$`, or it is read as an environment reference.
const escapeDollar = (text: string) => text.replace(/\$/g, '$$$$');
// A YAML double-quoted scalar: JSON's string syntax is a subset of it.
const yamlString = (text: string) => escapeDollar(JSON.stringify(text));
// An OTTL string literal standing in a plain YAML scalar (patterns hold no quotes, spaces or '#'); a line break is
// escaped all the same, so that a rendered config keeps its template's line numbers.
const ottlString = (text: string) =>
  escapeDollar(`"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`);

/** Each placeholder's text; throws PipelineTemplateError, naming `source`, for a parameter no template could use. */
export function placeholderValues(p: PipelineParameters, source = 'pipeline parameters'): Record<string, string> {
  const regex = criticalRegex(p.criticalPatterns);
  const sticky = p.cpuSecondsSticky ?? stickyCpuSeconds(p.cpuThreshold);
  if (!Number.isFinite(sticky) || sticky <= 0 || sticky > 1e9) {
    throw new PipelineTemplateError(`${source}: cpuSecondsSticky must be a number of CPU-seconds, 0 < x <= 1e9, got ${String(sticky)}`);
  }
  return {
    exporter_port: String(p.ports.exporter),
    telemetry_port: String(p.ports.telemetry),
    health_port: String(p.ports.health),
    instance_id: yamlString(p.instanceId),
    collection_interval: formatDuration(p.collectionIntervalMs),
    collection_interval_ottl: ottlString(formatDuration(p.collectionIntervalMs)),
    metric_expiration: formatDuration(p.metricExpirationMs),
    root_path: yamlString(p.rootPath),
    critical_regex: yamlString(regex),
    critical_regex_ottl: ottlString(regex),
    cpu_threshold: String(p.cpuThreshold),
    memory_threshold_bytes: String(Math.round(p.memoryThresholdBytes)),
    // A plain decimal: the OTTL parser refuses an exponent, which String() writes for small numbers.
    cpu_seconds_sticky: sticky.toFixed(6).replace(/\.?0+$/, ''),
  };
}

/** Throws PipelineTemplateError naming the template, line and placeholder when something does not fit. */
export function renderPipeline(template: string, params: PipelineParameters, source: string): string {
  const values = placeholderValues(params, source);
  const used = new Set<string>();
  const lines = template.split('\n');
  const rendered = lines.map((line, index) =>
    line.replace(PLACEHOLDER, (_match, name: string) => {
      const value = values[name];
      if (value === undefined) {
        throw new PipelineTemplateError(
          `${source}:${index + 1}: unknown placeholder {{${name}}}; known: ${Object.keys(values).join(', ')}`,
        );
      }
      used.add(name);
      return value;
    }),
  );
  const missing = REQUIRED_PLACEHOLDERS.filter((name) => !used.has(name));
  if (missing.length > 0) {
    throw new PipelineTemplateError(
      `${source}: the template must use ${missing.map((n) => `{{${n}}}`).join(', ')} (the agent assigns ports, and both variants must share interval and expiration)`,
    );
  }
  return rendered.join('\n');
}
