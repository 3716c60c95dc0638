// Running experiments' writes batched (hub/experiments/experiment-writes.ts): nothing stored until the flush, then
// every change in one transaction, a host's latest row only, events in order; flushed by its timer, and by close.
import t, { type Test } from 'tap';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { silentLogger } from '../../../common/logger.js';
import type { ExperimentHostRecord, ExperimentRecord } from '../../../hub/experiments/experiment-store.js';
import { BufferedExperimentWrites } from '../../../hub/experiments/experiment-writes.js';
import { promised } from '../../../common/promised.js';
import { openSqliteStore } from '../../../hub/store/sqlite.js';

const NOW = Date.UTC(2026, 5, 1);
const SHA = 'a'.repeat(64);
const record: ExperimentRecord = {
  id: 'e1', name: 'e1', description: null, spec: '{}', state: 'draft', revision: 1, baseline: { pipeline: 'baseline', sha256: SHA }, candidate: { pipeline: 'lean', sha256: SHA },
  createdBy: 'alice', createdAt: NOW, startedAt: null, endedAt: null, outcome: null, guard: null,
};
const host = (agentId: string, over: Partial<ExperimentHostRecord> = {}): ExperimentHostRecord => ({
  experimentId: 'e1', agentId, hostId: `host-${agentId}`, order: 0, wave: null, state: 'pending', message: null, updatedAt: NOW, healthySince: null, ...over,
});
const event = (kind: string) => ({ experimentId: 'e1', at: NOW, kind, hostId: null, actor: null, detail: '{}' });

function setUp(t: Test, delayMs: number) {
  const store = openSqliteStore({ file: path.join(t.testdir(), 'hub.db') });
  store.experiments.createExperiment(record, [host('a'), host('b')], event('created'));
  const writes = new BufferedExperimentWrites(promised(store.experiments), delayMs, silentLogger());
  t.teardown(async () => {
    await writes.close();
    store.close();
  });
  return { x: store.experiments, writes };
}

t.test('held until the flush, then all in one go: the latest row of each host, events in order, patches', async (t) => {
  const { x, writes } = setUp(t, 60_000);
  const row = host('a', { wave: 0, state: 'applying' });
  writes.putHost(row);
  row.state = 'failed'; // the caller's object changes later: what was put is kept as it was
  writes.putHost(host('a', { wave: 0, state: 'measuring', healthySince: NOW + 5 }));
  writes.addEvent(event('host.applying'));
  writes.addEvent(event('host.measuring'));
  writes.updateExperiment('e1', { state: 'running', startedAt: NOW + 1 });
  t.equal(x.hosts('e1')[0]!.state, 'pending', 'nothing stored before the flush');
  t.same(x.events('e1').map((e) => e.kind), ['created']);
  const flushed = writes.flush();
  t.equal(x.hosts('e1')[0]!.state, 'pending', 'the flush is stored after this turn of the event loop');
  await flushed;
  t.match(x.hosts('e1').find((h) => h.agentId === 'a'), { state: 'measuring', wave: 0, healthySince: NOW + 5 }, 'the latest row of the host');
  t.equal(x.hosts('e1').find((h) => h.agentId === 'b')!.state, 'pending', 'another host untouched');
  t.same(x.events('e1').map((e) => e.kind), ['created', 'host.applying', 'host.measuring'], 'events in the order added');
  t.match(x.experiment('e1'), { state: 'running', startedAt: NOW + 1 });
  await writes.flush();
  t.equal(x.events('e1').length, 3, 'a second flush writes nothing again');
});

t.test('its timer flushes a short while after the first change; close flushes what is left', async (t) => {
  const { x, writes } = setUp(t, 30);
  writes.putHost(host('b', { state: 'applying' }));
  t.equal(x.hosts('e1').find((h) => h.agentId === 'b')!.state, 'pending');
  await delay(200);
  t.equal(x.hosts('e1').find((h) => h.agentId === 'b')!.state, 'applying', 'written by the timer');
  writes.addEvent(event('late'));
  await writes.close();
  t.equal(x.events('e1').at(-1)!.kind, 'late', 'close wrote it');
  writes.addEvent(event('after close'));
  await writes.flush();
  t.equal(x.events('e1').at(-1)!.kind, 'after close', 'after close: written at once');
});

t.test('flushes are stored in order, one at a time; a failed one is lost alone and later ones go on', async (t) => {
  const { x } = setUp(t, 60_000);
  const order: string[] = [];
  let fail = true;
  const slow = {
    ...promised(x),
    applyWrites: async (set: Parameters<typeof x.applyWrites>[0]) => {
      const kinds = set.events.map((e) => e.kind).join(',');
      order.push(`begin ${kinds}`);
      await delay(kinds === 'first' ? 50 : 5);
      order.push(`end ${kinds}`);
      if (kinds === 'first' && fail) {
        fail = false;
        throw new Error('the database went away');
      }
      x.applyWrites(set);
    },
  };
  const writes = new BufferedExperimentWrites(slow, 60_000, silentLogger());
  writes.addEvent(event('first'));
  const first = writes.flush();
  writes.addEvent(event('second'));
  const second = writes.flush();
  await t.rejects(first, { message: 'the database went away' });
  await second;
  t.same(order, ['begin first', 'end first', 'begin second', 'end second'], 'the second waited for the first');
  t.same(x.events('e1').map((e) => e.kind), ['created', 'second'], 'the failed flush lost its own writes only');
  await writes.flush();
  t.pass('a flush with nothing new does not repeat an earlier failure');
  await writes.close();
});
