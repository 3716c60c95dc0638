// The API of experiments and the pipeline catalog: experimenters write (each write in the audit log), viewers read.
import { actorOf } from '../access/access.js';
import { MAX_TEMPLATE_BYTES } from '../../protocol/assignment.js';
import { BadRequestError } from '../errors.js';
import { fields, readJson, stringField } from './body.js';
import { onlyParams } from './query.js';
import type { RouteContext } from './routes.js';
import type {
  ExperimentListResponse, ExperimentResponse, PipelineDeletedResponse, PipelineInfo, PipelineListResponse, PipelineResponse,
} from './experiment-types.js';
import type { CatalogEntry } from '../experiments/catalog.js';

/** A definition or a template travels as JSON text: room for the largest template, escaped. */
const MAX_WRITE_BYTES = 2 * MAX_TEMPLATE_BYTES + 16 * 1024;
const SHA256 = /^[0-9a-f]{64}$/;

function shaParam(c: RouteContext): string | undefined {
  onlyParams(c.url, ['sha256']);
  const sha = c.url.searchParams.get('sha256') ?? undefined;
  if (sha !== undefined && !SHA256.test(sha)) throw new BadRequestError(`sha256: must be 64 lowercase hex digits, got '${sha.slice(0, 80)}'`);
  return sha;
}

async function pipelineInfo(c: RouteContext, p: CatalogEntry): Promise<PipelineInfo> {
  return {
    name: p.name,
    sha256: p.sha256,
    builtin: p.builtin,
    description: p.description,
    uploadedBy: p.uploadedBy,
    uploadedAt: p.builtin ? null : new Date(p.uploadedAt).toISOString(),
    usedBy: await c.hub.store.experiments.pipelineUsers(p.name, p.sha256),
  };
}

export async function listPipelines(c: RouteContext): Promise<PipelineListResponse> {
  onlyParams(c.url, []);
  return { pipelines: await Promise.all((await c.hub.catalog.list()).map((p) => pipelineInfo(c, p))) };
}

export async function showPipeline(c: RouteContext): Promise<PipelineResponse> {
  const sha = shaParam(c);
  const entry = await c.hub.catalog.resolve(sha ? `${c.param}@sha256:${sha}` : c.param, 'name');
  const versions = await Promise.all((await c.hub.catalog.list()).filter((p) => p.name === entry.name).map((p) => pipelineInfo(c, p)));
  return { pipeline: { ...(await pipelineInfo(c, entry)), content: entry.content }, versions };
}

/** POST /api/v1/pipelines {name, content, description?}: 201 with a new version, 200 when this text is there already. */
export async function uploadPipeline(c: RouteContext): Promise<PipelineResponse> {
  onlyParams(c.url, []);
  const body = fields(await readJson(c.req, MAX_WRITE_BYTES), ['name', 'content'], ['description']);
  const name = stringField(body, 'name', 63);
  const content = stringField(body, 'content', MAX_TEMPLATE_BYTES);
  const description = body.description === undefined ? null : stringField(body, 'description', 2000);
  const actor = actorOf(c.principal!, c.remote);
  try {
    const { entry, created } = await c.hub.catalog.upload(actor.name, name, content, description, Date.now());
    await c.hub.access.record(actor, 'pipeline.upload', `${name}@${entry.sha256}`, 'ok', { created });
    return { pipeline: { ...(await pipelineInfo(c, entry)), content: entry.content }, created };
  } catch (error) {
    await c.hub.access.record(actor, 'pipeline.upload', name, 'refused', { reason: (error as Error).message.slice(0, 300) });
    throw error;
  }
}

export async function deletePipeline(c: RouteContext): Promise<PipelineDeletedResponse> {
  const sha = shaParam(c);
  const actor = actorOf(c.principal!, c.remote);
  const deleted = await c.hub.catalog.delete(c.param, sha);
  await c.hub.access.record(actor, 'pipeline.delete', sha ? `${c.param}@${sha}` : c.param, 'ok', { deleted });
  return { deleted };
}

export async function listExperiments(c: RouteContext): Promise<ExperimentListResponse> {
  onlyParams(c.url, []);
  return { experiments: await c.hub.experiments.list() };
}

export async function showExperiment(c: RouteContext): Promise<ExperimentResponse> {
  onlyParams(c.url, []);
  return { experiment: await c.hub.experiments.detail(c.param) };
}

/** POST /api/v1/experiments {definition: YAML or JSON text | object, start?: boolean (default true)} → 201. */
export async function createExperiment(c: RouteContext): Promise<ExperimentResponse> {
  onlyParams(c.url, []);
  const body = fields(await readJson(c.req, MAX_WRITE_BYTES), ['definition'], ['start']);
  if (body.start !== undefined && typeof body.start !== 'boolean') throw new BadRequestError("'start' must be true or false");
  const definition = body.definition;
  if (typeof definition !== 'string' && (typeof definition !== 'object' || definition === null || Array.isArray(definition))) {
    throw new BadRequestError("'definition' must be the experiment as YAML or JSON text, or as an object");
  }
  const actor = actorOf(c.principal!, c.remote);
  const id = await c.hub.experiments.createDraft(actor, definition);
  if (body.start === false) return { experiment: await c.hub.experiments.detail(id) };
  // Created and started in two turns of the event loop: the acks of reports that arrived meanwhile go out between.
  await new Promise((resolve) => setImmediate(resolve));
  return { experiment: await c.hub.experiments.start(actor, id) };
}

export async function startExperiment(c: RouteContext): Promise<ExperimentResponse> {
  onlyParams(c.url, []);
  return { experiment: await c.hub.experiments.start(actorOf(c.principal!, c.remote), c.param) };
}

export async function stopExperiment(c: RouteContext): Promise<ExperimentResponse> {
  onlyParams(c.url, []);
  return { experiment: await c.hub.experiments.stop(actorOf(c.principal!, c.remote), c.param) };
}
