// The window thread as the store uses it (viaThread): a thread that dies sends the comparisons to the loop's own reads,
// and a new one is started after a wait that grows with each failure in a row; closing stops the restarts. Real
// threads, from a fixture script that answers with its name or dies on its first call.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ComparisonGroup } from '../../../hub/compare.js';
import { StoreOpenError } from '../../../hub/errors.js';
import { RESTART_BACKOFF_MS, viaThread, WindowThread } from '../../../hub/store/window-thread.js';
import { captureLogs } from '../../helpers/logs.js';

const SCRIPT = new URL('../../fixtures/window-worker.ts', import.meta.url);
const logs = captureLogs('info');
const start = (name: string, dies = false) => WindowThread.start({ script: SCRIPT, data: { name, dies }, name: `test-${name}`, display: 'test' }, logs.logger);
const onLoop = async () => [{ group: 'loop' }] as unknown as ComparisonGroup[];
const groupOf = async (via: ReturnType<typeof viaThread>) => ((await via.comparison(0, 1, { kind: 'none' })) as unknown as { group: string }[])[0]!.group;
/** The first log line whose message matches `msg`. */
const line = (msg: RegExp) => logs.lines.find((l) => msg.test(String(l.msg)));
const waits = () => logs.lines.filter((l) => /started again after a wait/.test(String(l.msg))).map((l) => l.inMs);

t.test('a thread that died: the loop answers, then a new thread after the first wait, then after a longer one', async (t) => {
  logs.lines.length = 0;
  const starts: string[] = [];
  // The first restart cannot start (its error), the second one starts a thread that answers.
  const restart = async () => {
    starts.push(`restart ${starts.length + 1}`);
    if (starts.length === 1) throw new StoreOpenError('test: the thread cannot start');
    return start('second');
  };
  const via = viaThread(await start('first', true), restart, onLoop, logs.logger);
  t.teardown(() => via.close());
  t.ok(via.hearing(), 'the first thread hears what the loop writes');
  t.equal(await groupOf(via), 'loop', 'the call the thread died on is answered by the loop');
  t.equal(via.hearing(), null, 'no thread hears meanwhile');
  t.match(line(/window thread failed; comparisons are read on the event loop/), { failures: 1, err: { message: /exited \(code 3\)/ } });
  t.equal(await groupOf(via), 'loop', 'and the calls after it');
  const begun = Date.now();
  while ((await groupOf(via)) === 'loop' && Date.now() - begun < 10_000) await sleep(100);
  const took = Date.now() - begun;
  t.equal(await groupOf(via), 'second', 'a new thread answers');
  t.same(starts, ['restart 1', 'restart 2'], 'started again twice: the first start failed');
  t.same(waits(), [RESTART_BACKOFF_MS[0], RESTART_BACKOFF_MS[1]], 'the wait grew after the failed start');
  t.ok(took >= RESTART_BACKOFF_MS[0] + RESTART_BACKOFF_MS[1] - 200, `no thread before both waits (${took} ms)`);
  t.match(line(/could not be started again/), { err: { message: /cannot start/ } });
  t.ok(via.hearing(), 'the new thread hears what the loop writes');
});

t.test('closed while a restart waits: no thread is started', async (t) => {
  logs.lines.length = 0;
  let restarts = 0;
  const via = viaThread(await start('first', true), async () => {
    restarts += 1;
    return start('late');
  }, onLoop, logs.logger);
  t.equal(await groupOf(via), 'loop');
  await via.close();
  await sleep(RESTART_BACKOFF_MS[0] + 300);
  t.equal(restarts, 0, 'the wait was cancelled');
  t.equal(via.hearing(), null);
});

t.test('errors that are not the thread failing reach the caller, and the thread stays', async (t) => {
  const thread = await start('answers');
  const via = viaThread(thread, () => start('unused'), async () => Promise.reject(new Error('unused')), logs.logger);
  t.teardown(() => via.close());
  t.equal(await groupOf(via), 'answers');
  t.equal(via.hearing(), thread);
});
