// An experiment driven through a hub's HTTP API as the command line drives it (callHub): create, read, stop, and a
// wait for a state that rides over the hub being down for a while (a restart).
import { callHub, HubApiError, type HubApiTarget } from '../../hub/api-client.js';
import type { ExperimentDetail, ExperimentResponse } from '../../hub/http/experiment-types.js';
import { waitFor } from './process.js';

export interface ExperimentApi {
  /** POST /api/v1/experiments (started at once); rejects with the hub's message when refused. */
  create(definition: Record<string, unknown>): Promise<ExperimentDetail>;
  get(id: string): Promise<ExperimentDetail>;
  stop(id: string): Promise<ExperimentDetail>;
  /** Polls GET until `pred` holds; an unreachable hub counts as "not yet", any refusal fails the wait. */
  until(id: string, what: string, pred: (e: ExperimentDetail) => boolean, ms?: number): Promise<ExperimentDetail>;
}

/**
 * A definition for tests: the built-in baseline against optimized-b at a 1 s collection interval, judged by 'sshd'
 * (which optimized-b keeps, so no candidate "loss" holds a rollout back); `rest` gives the name, target, rollout.
 */
export function testDefinition(rest: Record<string, unknown> & { name: string }): Record<string, unknown> {
  return {
    baseline: { pipeline: 'baseline' },
    candidate: { pipeline: 'optimized-b' },
    critical: { patterns: ['sshd'] },
    parameters: { collectionInterval: '1s', metricExpiration: '10s' },
    ...rest,
  };
}

export function experimentApi(target: HubApiTarget): ExperimentApi {
  const one = async (method: 'GET' | 'POST', path: string, body?: unknown) => (await callHub<ExperimentResponse>(target, method, path, body)).experiment;
  const get = (id: string) => one('GET', `/api/v1/experiments/${encodeURIComponent(id)}`);
  return {
    create: (definition) => one('POST', '/api/v1/experiments', { definition }),
    get,
    stop: (id) => one('POST', `/api/v1/experiments/${encodeURIComponent(id)}/stop`, {}),
    until: (id, what, pred, ms = 180_000) =>
      waitFor(what, async () => {
        const e = await get(id).catch((error: unknown) => {
          if (error instanceof HubApiError && error.status === null) return null;
          throw error;
        });
        return e && pred(e) ? e : null;
      }, ms, 250),
  };
}
