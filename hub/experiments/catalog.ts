// The hub's pipeline catalog: the built-in templates and those experimenters upload, each version named by the
// sha256 of its text, checked at upload for the placeholders and against the agents' pipeline policy.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pipelinesDir } from '../../common/paths.js';
import { MAX_TEMPLATE_BYTES } from '../../protocol/assignment.js';
import { PipelineTemplateError } from '../../protocol/pipeline/errors.js';
import { checkPipelinePolicy, STOCK_PROCESSORS } from '../../protocol/pipeline/policy.js';
import { renderPipeline } from '../../protocol/pipeline/render.js';
import { BadRequestError, HttpRequestError, NotFoundError } from '../errors.js';
import type { ExperimentStore, PipelineRecord } from './experiment-store.js';

export const BUILTIN_PIPELINES = ['baseline', 'optimized-a', 'optimized-b', 'optimized-c'] as const;
const NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** `name` or `name@sha256:<hex>`, as an experiment names a template. */
const REFERENCE = /^([a-z][a-z0-9-]{0,62})(?:@sha256:([0-9a-f]{64}))?$/;

export interface CatalogEntry extends PipelineRecord {
  builtin: boolean;
}

export const sha256Of = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Ports and parameters a template is rendered with to be checked: any real agent's differ, the shape does not. */
const SAMPLE = {
  ports: { exporter: 19101, telemetry: 19102, health: 19103 },
  instanceId: 'catalog-check/variant',
  collectionIntervalMs: 10_000,
  metricExpirationMs: 60_000,
  rootPath: '',
  criticalPatterns: ['sshd'],
  cpuThreshold: 0.05,
  memoryThresholdBytes: 256 * 1024 * 1024,
};

/**
 * What is wrong with a template, each as "source:LINE: message" (empty: it may be uploaded). Rendering keeps lines,
 * so the policy's line numbers are the template's.
 */
export function templateProblems(content: string, source: string): string[] {
  let rendered: string;
  try {
    rendered = renderPipeline(content, SAMPLE, source);
  } catch (error) {
    if (error instanceof PipelineTemplateError) return [error.message];
    throw error;
  }
  return checkPipelinePolicy(rendered, { ports: SAMPLE.ports, rootPath: SAMPLE.rootPath, processors: STOCK_PROCESSORS }).map(
    (v) => `${source}:${v.line ?? '?'}: ${v.message}`,
  );
}

/** Calling rules: any method any time; the built-ins are read from the pipelines directory once, at construction. */
export class PipelineCatalog {
  readonly #store: ExperimentStore;
  readonly #builtins: CatalogEntry[];

  constructor(store: ExperimentStore, dir = pipelinesDir()) {
    this.#store = store;
    this.#builtins = BUILTIN_PIPELINES.map((name) => {
      const content = readFileSync(path.join(dir, `${name}.yaml`), 'utf8');
      return { name, sha256: sha256Of(content), content, description: `built-in: ${name}`, uploadedBy: 'phoenix', uploadedAt: 0, builtin: true };
    });
  }

  /** The built-ins, then every uploaded version (newest first per name). */
  async list(): Promise<CatalogEntry[]> {
    return [...this.#builtins, ...(await this.#store.pipelines()).map((p) => ({ ...p, builtin: false }))];
  }

  /** The template an experiment names: `name` (its newest version) or `name@sha256:<hex>`; 400/404 otherwise. */
  async resolve(reference: string, field: string): Promise<CatalogEntry> {
    const m = REFERENCE.exec(reference);
    if (!m) throw new BadRequestError(`${field}: '${reference.slice(0, 80)}' is not a template name (optionally name@sha256:<64 hex>)`);
    const [, name, sha] = m as unknown as [string, string, string | undefined];
    const builtin = this.#builtins.find((b) => b.name === name);
    if (builtin) {
      if (sha !== undefined && sha !== builtin.sha256) throw new NotFoundError(`${field}: the built-in '${name}' is version ${builtin.sha256}, not ${sha}`);
      return builtin;
    }
    const found = await this.#store.pipeline(name, sha);
    if (!found) throw new NotFoundError(`${field}: no template '${reference.slice(0, 140)}' in the catalog (GET /api/v1/pipelines lists them)`);
    return { ...found, builtin: false };
  }

  /** Checks and keeps a version; `created` is false when this exact text was uploaded under this name before. */
  async upload(by: string, name: string, content: string, description: string | null, now: number): Promise<{ entry: CatalogEntry; created: boolean }> {
    if (!NAME.test(name)) throw new BadRequestError(`name: '${name.slice(0, 80)}' must be 1-63 of a-z 0-9 - starting with a letter`);
    if ((BUILTIN_PIPELINES as readonly string[]).includes(name)) throw new HttpRequestError('conflict', `name: '${name}' is a built-in template; choose another name`);
    if (Buffer.byteLength(content) > MAX_TEMPLATE_BYTES) throw new BadRequestError(`content: the template is over ${MAX_TEMPLATE_BYTES} bytes`);
    const problems = templateProblems(content, name);
    if (problems.length > 0) {
      throw new BadRequestError(`the template is refused: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
    }
    const record: PipelineRecord = { name, sha256: sha256Of(content), content, description, uploadedBy: by, uploadedAt: now };
    const created = (await this.#store.putPipeline(record)) === 'created';
    return { entry: { ...(created ? record : (await this.#store.pipeline(name, record.sha256))!), builtin: false }, created };
  }

  /** Deletes a template (every version, or one); 409 while an experiment uses it, naming the experiments. */
  async delete(name: string, sha256?: string): Promise<number> {
    if ((BUILTIN_PIPELINES as readonly string[]).includes(name)) throw new HttpRequestError('conflict', `'${name}' is a built-in template and cannot be deleted`);
    const users = await this.#store.pipelineUsers(name, sha256);
    if (users.length > 0) throw new HttpRequestError('conflict', `'${name}' is used by experiment${users.length === 1 ? '' : 's'} ${users.slice(0, 5).join(', ')}; it cannot be deleted`);
    const deleted = await this.#store.deletePipeline(name, sha256);
    if (deleted === 0) throw new NotFoundError(`no template '${name}'${sha256 ? ` version ${sha256}` : ''} in the catalog`);
    return deleted;
  }
}
