// The agent's programmatic entry, with the real collector and a real hub: it owns and closes every part.
import t from 'tap';
import { createServer, type AddressInfo } from 'node:net';
import { loadConfig } from '../../agent/config/load.js';
import { startAgent } from '../../agent/agent.js';
import { PortInUseError } from '../../agent/errors.js';
import { pidFilePath } from '../../agent/paths.js';
import { readPidFile } from '../../agent/supervisor/pidfile.js';
import { autoPort } from '../../agent/supervisor/ports.js';
import type { AgentStatus } from '../../agent/health-server.js';
import { TokenSet } from '../../hub/auth.js';
import { startHub } from '../../hub/server.js';
import type { AgentReport } from '../../protocol/report.js';
import { writeTestConfig } from '../helpers/agent-config.js';
import { realCollector } from '../helpers/collector.js';
import { captureLogs } from '../helpers/logs.js';
import { isAlive, waitFor } from '../helpers/process.js';

const binary = realCollector();
const TOKEN = 'agent-entry-token-0123456789';

t.test('startAgent: reports reach the hub and the listeners, a failing listener is named, close() stops every part', { timeout: 180_000 }, async (t) => {
  const hub = await startHub({ port: 0, dataDir: t.testdir(), tokens: TokenSet.fromTokens([TOKEN]), logger: captureLogs('warn').logger });
  t.teardown(() => hub.close());
  const { file } = await writeTestConfig(t, { health: { port: 0 }, hub: { url: hub.agentUrl } });
  const { logger, lines } = captureLogs('info');
  const agent = await startAgent(loadConfig(file, { env: { PHOENIX_HUB_TOKEN: TOKEN } }), { logger, collectorBinary: binary });
  t.teardown(() => agent.close());
  t.ok(agent.healthPort !== null && agent.healthPort > 0, `health endpoint on port ${agent.healthPort}`);

  const stored: number[] = [];
  hub.on('report', (_agent, message) => stored.push(message.seq));
  const heard: AgentReport[] = [];
  agent.on('report', () => {
    throw new Error('a listener bug');
  });
  agent.on('report', (report) => heard.push(report));
  await waitFor('a report stored at the hub', () => stored.length > 0 && heard.length > 0, 90_000, 100);
  t.ok(lines.some((l) => l.msg === "agent 'report' listener failed"), 'the throwing listener is logged as a listener failure');
  t.notOk(lines.some((l) => l.msg === 'measurement failed'), 'not as a failed measurement');

  const status = agent.status();
  t.equal(status.state, 'running');
  t.same(status.collectors.map((c) => c.state), ['running', 'running']);
  t.equal(status.hub?.state, 'connected');
  const served = (await (await fetch(`http://127.0.0.1:${agent.healthPort}/status`)).json()) as AgentStatus;
  t.same(served.collectors.map((c) => c.pid), status.collectors.map((c) => c.pid), '/status serves the same status');

  const pids = status.collectors.map((c) => c.pid!);
  await agent.close();
  for (const pid of pids) t.notOk(isAlive(pid), `collector ${pid} is gone once close() resolves`);
  await t.rejects(fetch(`http://127.0.0.1:${agent.healthPort}/healthz`), 'the health endpoint is closed');
  await waitFor('the hub sees the agent go', () => hub.connections.size === 0, 10_000, 50);
  t.equal(agent.status().state, 'closed');
  await agent.close(); // a second close is the same close
});

t.test('startAgent: the collectors cannot start (a port taken) → the parts already started are closed', { timeout: 120_000 }, async (t) => {
  const hub = await startHub({ port: 0, dataDir: t.testdir(), tokens: TokenSet.fromTokens([TOKEN]), logger: captureLogs('warn').logger });
  t.teardown(() => hub.close());
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const taken = (blocker.address() as AddressInfo).port;
  const healthPort = await autoPort();
  const { file, stateDir } = await writeTestConfig(t, { ports: { base: taken }, health: { port: healthPort }, hub: { url: hub.agentUrl } });
  const config = loadConfig(file, { env: { PHOENIX_HUB_TOKEN: TOKEN } });
  const error = await startAgent(config, { logger: captureLogs('warn').logger, collectorBinary: binary }).then(
    () => null,
    (e: unknown) => e,
  );
  t.type(error, PortInUseError);
  t.match((error as Error).message, new RegExp(`port ${taken} is already in use`));
  const probe = createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(healthPort, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  t.pass(`the health server that had started on ${healthPort} was closed`);
  t.same(readPidFile(pidFilePath({ ...config, stateDir })).filter((e) => isAlive(e.pid)), [], 'no collector was left running');
});
