// The policy every pushed collector pipeline must pass, checked by the hub on upload and by the agent on receipt:
// a pipeline may read process metrics and serve them on the loopback, and never send them elsewhere or touch files.
import { isMap, LineCounter, parseAllDocuments, type Document } from 'yaml';
import { PhoenixError } from '../../common/errors.js';
import { checkNodes } from './policy-nodes.js';
import { checkSections, isRootPath } from './policy-rules.js';
import { reporter } from './policy-yaml.js';

export interface PolicyExpectations {
  ports: { exporter: number; telemetry: number; health: number };
  /** The host metrics receiver's root_path the agent assigns ('' or an absolute path like /hostfs). */
  rootPath: string;
  /** Processor types the collector build has (e.g. from `<collector> components`). */
  processors: readonly string[];
}

/** One thing the policy refuses: its line in the rendered config (null for the whole), its key path, and why. */
export interface PolicyViolation {
  line: number | null;
  path: string;
  message: string;
}

/** The processors of Phoenix's minimal collector build (packaging/otelcol/manifest.yaml), under the names `components` prints. */
export const STOCK_PROCESSORS: readonly string[] = ['batch', 'filter', 'groupbyattrs', 'metrics_transform', 'resource', 'transform'];

/** Checks a RENDERED collector config (YAML text). Never throws; [] means allowed. */
export function checkPipelinePolicy(rendered: string, expect: PolicyExpectations): PolicyViolation[] {
  const found: PolicyViolation[] = [];
  try {
    const lines = new LineCounter();
    const docs = parseAllDocuments(rendered, { uniqueKeys: true, lineCounter: lines, prettyErrors: false });
    const report = reporter(lines, found);
    const doc = docs[0];
    if (doc === undefined) {
      found.push({ line: null, path: '', message: 'the config is empty: it must be one YAML document' });
    } else {
      for (const extra of docs.slice(1)) {
        found.push({ line: lines.linePos(extra.range[0]).line, path: '', message: 'a second YAML document is not allowed: the config must be one document' });
      }
      checkDocument(doc, rendered, lines, found);
      checkNodes(doc.contents, [], report, isRootPath);
      if (isMap(doc.contents)) checkSections(doc.contents, expect, report);
      else report(doc.contents, [], 'the config must be a mapping of sections (receivers, processors, exporters, …)');
    }
  } catch (error) {
    found.push({ line: null, path: '', message: `the config could not be checked: ${(error as Error)?.message ?? String(error)}` });
  }
  return found.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}

/** What the YAML parser itself refuses (duplicate keys included), and directives that change how it reads the rest. */
function checkDocument(doc: Document.Parsed, text: string, lines: LineCounter, found: PolicyViolation[]): void {
  const { yaml, tags } = doc.directives;
  if (yaml.explicit === true || Object.keys(tags).some((handle) => handle !== '!!')) {
    const directive = text.search(/^%/m);
    found.push({ line: lines.linePos(Math.max(directive, 0)).line, path: '', message: 'a YAML directive (%YAML, %TAG) is not allowed' });
  }
  for (const error of doc.errors) {
    const start = error.pos[0];
    // The parser marks the key's first character; the key runs to its colon.
    const key = /^[^:\n,{}]*/.exec(text.slice(start))![0].trim();
    found.push({
      line: lines.linePos(start).line,
      path: '',
      message: error.code === 'DUPLICATE_KEY' ? `duplicate key '${key}': one of the two would be ignored` : `not valid YAML: ${error.message}`,
    });
  }
}

/** Refused by Phoenix's pipeline policy; `violations` holds every reason, the message the first few. */
export class PipelinePolicyError extends PhoenixError {
  readonly violations: readonly PolicyViolation[];
  constructor(source: string, violations: readonly PolicyViolation[]) {
    super('PHX_PIPELINE_POLICY', policyMessage(source, violations), 2);
    this.violations = violations;
  }
}

const LISTED = 5;

function policyMessage(source: string, violations: readonly PolicyViolation[]): string {
  const listed = violations
    .slice(0, LISTED)
    .map((v) => `${source}${v.line === null ? '' : `:${v.line}`}: ${v.path === '' ? '' : `${v.path}: `}${v.message}`);
  const more = violations.length > LISTED ? `; and ${violations.length - LISTED} more` : '';
  return `${source}: the pipeline policy refuses this config (a pipeline may only read process metrics and serve them on the loopback): ${listed.join('; ')}${more}`;
}

/** Throws PipelinePolicyError, naming `source` and each refused line, unless the rendered config passes. */
export function assertPipelinePolicy(rendered: string, expect: PolicyExpectations, source: string): void {
  const violations = checkPipelinePolicy(rendered, expect);
  if (violations.length > 0) throw new PipelinePolicyError(source, violations);
}
