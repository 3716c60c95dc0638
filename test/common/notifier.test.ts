// The one notification style: typed events, listeners isolated, a listener's failure logged as what it is.
import t from 'tap';
import { Notifier } from '../../common/notifier.js';
import { captureLogs } from '../helpers/logs.js';

interface Events {
  tick: [n: number, label: string];
  done: [];
}

t.test('listeners hear events in subscription order; on() returns the unsubscribe', async (t) => {
  const { logger } = captureLogs();
  const events = new Notifier<Events>('clock', logger);
  const heard: string[] = [];
  const off = events.on('tick', (n, label) => heard.push(`a${n}${label}`));
  events.on('tick', (n) => heard.push(`b${n}`));
  events.emit('tick', 1, 'x');
  off();
  events.emit('tick', 2, 'y');
  t.same(heard, ['a1x', 'b1', 'b2']);
  t.equal(events.listenerCount('tick'), 1);
  t.equal(events.listenerCount('done'), 0);
  events.clear();
  t.equal(events.listenerCount('tick'), 0);
});

t.test('a listener that throws is logged as a listener failure and the others still hear the event', async (t) => {
  const { logger, lines } = captureLogs();
  const events = new Notifier<Events>('clock', logger);
  const heard: number[] = [];
  events.on('tick', () => {
    throw new Error('listener bug');
  });
  events.on('tick', (n) => heard.push(n));
  t.doesNotThrow(() => events.emit('tick', 7, ''));
  t.same(heard, [7]);
  const line = lines.find((l) => l.msg === "clock 'tick' listener failed");
  t.ok(line, 'logged with the source and the event');
  t.equal((line?.err as { message?: string } | undefined)?.message, 'listener bug');
  t.equal(line?.level, 50, 'at error level');
});

t.test('next() resolves with the next event and rejects when its signal aborts', async (t) => {
  const { logger } = captureLogs();
  const events = new Notifier<Events>('clock', logger);
  const next = events.next('tick', new AbortController().signal);
  events.emit('tick', 3, 'z');
  t.same(await next, [3, 'z']);
  t.equal(events.listenerCount('tick'), 0, 'its listener is gone');
  const abort = new AbortController();
  const waiting = events.next('done', abort.signal);
  abort.abort(new Error('gave up'));
  await t.rejects(waiting, { message: 'gave up' });
  t.equal(events.listenerCount('done'), 0, 'an aborted wait leaves no listener');
  await t.rejects(events.next('done', AbortSignal.abort(new Error('already'))), { message: 'already' });
});
