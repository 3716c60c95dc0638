// The agent's health endpoint: liveness, readiness from the collectors' states, status JSON, a taken port.
import t from 'tap';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { readiness, startHealthServer, type AgentStatus } from '../../agent/health-server.js';
import { PortInUseError } from '../../agent/errors.js';
import { silentLogger } from '../../common/logger.js';
import type { CollectorStatus } from '../../agent/supervisor/collector-process.js';

const collector = (variant: string, state: CollectorStatus['state']): CollectorStatus => ({
  variant,
  state,
  pid: state === 'running' ? 1234 : null,
  restarts: state === 'backoff' ? 3 : 0,
  lastExit: null,
  since: '2026-11-22T00:00:00.000Z',
});
const status = (state: AgentStatus['state'], ...collectors: CollectorStatus[]): AgentStatus => ({
  version: '0.1.0',
  state,
  collectors,
  lastReportAt: null,
  hub: null,
  experiment: { running: null, last: null },
});

t.test('readiness: running collectors, a scheduled wait, a crash loop, stopping', async (t) => {
  t.same(readiness(status('running', collector('baseline', 'running'), collector('optimized-a', 'running'))), { ready: true, reason: 'both collectors running' });
  t.match(readiness(status('idle')), { ready: true, reason: /waiting for the next experiment window/ });
  t.same(readiness(status('running', collector('baseline', 'running'), collector('optimized-a', 'backoff'))), { ready: false, reason: 'optimized-a is backoff' });
  t.same(readiness(status('closed')), { ready: false, reason: 'stopping' });
});

t.test('the endpoint: /healthz, /readyz follows the status, /status, 404 and 405', async (t) => {
  let current = status('running', collector('baseline', 'starting'), collector('optimized-a', 'running'));
  const server = await startHealthServer({ host: '127.0.0.1', port: 0, status: () => current, logger: silentLogger() });
  t.teardown(() => server.close());
  const base = `http://127.0.0.1:${server.port}`;
  t.same(await (await fetch(`${base}/healthz`)).json(), { status: 'ok' });
  const notReady = await fetch(`${base}/readyz`);
  t.equal(notReady.status, 503);
  t.same(await notReady.json(), { status: 'not ready', reason: 'baseline is starting' });
  current = status('running', collector('baseline', 'running'), collector('optimized-a', 'running'));
  t.equal((await fetch(`${base}/readyz?verbose=1`)).status, 200, 'ready once both run');
  const body = (await (await fetch(`${base}/status`)).json()) as AgentStatus;
  t.same(body.collectors.map((c) => [c.variant, c.state]), [['baseline', 'running'], ['optimized-a', 'running']]);
  const missing = await fetch(`${base}/metrics`);
  t.equal(missing.status, 404);
  t.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 405);
});

t.test('a taken port is a PortInUseError naming it', async (t) => {
  const holder = createServer();
  holder.listen(0, '127.0.0.1');
  await once(holder, 'listening');
  t.teardown(() => holder.close());
  const port = (holder.address() as { port: number }).port;
  const error = await startHealthServer({ host: '127.0.0.1', port, status: () => status('idle'), logger: silentLogger() }).catch((e: unknown) => e);
  t.ok(error instanceof PortInUseError);
  t.equal((error as Error).message, `agent health endpoint: port ${port} is already in use on 127.0.0.1; free it or choose another (health.port in the config)`);
});
