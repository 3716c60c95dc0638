// The agent's id: made once from the host id, kept in the state dir across restarts, valid for the protocol.
import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { agentIdFor } from '../../../agent/hub-client/agent-id.js';
import { helloSchema } from '../../../protocol/messages.js';
import { captureLogs } from '../../helpers/logs.js';

t.test('made on first use from the host id, saved 0600, the same after a restart', async (t) => {
  const dir = path.join(t.testdir(), 'state');
  const { logger } = captureLogs();
  const id = agentIdFor(dir, 'web-1', logger);
  t.match(id, /^web-1-[0-9a-f]{8}$/);
  t.equal(readFileSync(path.join(dir, 'agent-id'), 'utf8'), `${id}\n`);
  t.equal(statSync(path.join(dir, 'agent-id')).mode & 0o777, 0o600);
  t.equal(agentIdFor(dir, 'web-1', logger), id, 'read back, not made again');
  t.equal(agentIdFor(dir, 'renamed-host', logger), id, 'a renamed host keeps its agent id');
});

t.test('host ids that the protocol would refuse become a valid prefix', async (t) => {
  const { logger } = captureLogs();
  for (const [host, prefix] of [
    ['node/with spaces', 'node-with-spaces'],
    ['--leading', 'leading'],
    ['', 'agent'],
    ['ü', 'agent'],
    ['x'.repeat(200), 'x'.repeat(64)],
  ] as const) {
    const id = agentIdFor(path.join(t.testdir(), String(host.length) + prefix.slice(0, 3)), host, logger);
    t.equal(id.slice(0, -9), prefix, `${JSON.stringify(host.slice(0, 20))} → ${prefix.slice(0, 20)}`);
    t.ok(helloSchema.shape.agentId.safeParse(id).success, `${id.slice(0, 30)} is a valid agent id in a hello`);
  }
});

t.test('a corrupt saved id is replaced; an unwritable state dir gives an id for this run, with a warning', async (t) => {
  const dir = t.testdir();
  writeFileSync(path.join(dir, 'agent-id'), 'not valid!\n');
  const { logger, lines } = captureLogs();
  const id = agentIdFor(dir, 'h', logger);
  t.match(id, /^h-[0-9a-f]{8}$/);
  t.equal(readFileSync(path.join(dir, 'agent-id'), 'utf8').trim(), id);
  if (process.getuid?.() === 0) {
    // root writes anywhere; a file where the directory should be stands in for an unwritable state dir
    const blocked = path.join(t.testdir(), 'file');
    writeFileSync(blocked, '');
    const once = agentIdFor(path.join(blocked, 'state'), 'h', logger);
    t.match(once, /^h-[0-9a-f]{8}$/);
    t.not(agentIdFor(path.join(blocked, 'state'), 'h', logger), once, 'nothing saved: the next run gets another id');
  } else {
    const locked = path.join(t.testdir(), 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    agentIdFor(locked, 'h', logger);
  }
  t.ok(lines.some((l) => l.msg === 'cannot save the agent id; the hub will see a new agent after a restart'), 'warned');
});
