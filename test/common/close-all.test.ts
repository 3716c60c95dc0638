// Closing a component of several parts: each part is tried in order, and every failure is named.
import t from 'tap';
import { setTimeout as delay } from 'node:timers/promises';
import { closeAll, closeAllAtOnce, CloseError } from '../../common/close-all.js';

t.test('every part is closed in order, also after one fails; the error names each failure', async (t) => {
  const closed: string[] = [];
  const part = (name: string, fail?: string) => ({
    name,
    close: async () => {
      closed.push(name);
      if (fail) throw new Error(fail);
    },
  });
  const error = await closeAll('agent', [part('collectors', 'stuck'), null, part('hub connection'), part('health server', 'EBADF')]).then(
    () => null,
    (e: unknown) => e,
  );
  t.same(closed, ['collectors', 'hub connection', 'health server'], 'none skipped');
  t.type(error, CloseError);
  const e = error as CloseError;
  t.equal(e.code, 'PHX_CLOSE_FAILED');
  t.same(e.failures.map((f) => f.part), ['collectors', 'health server']);
  t.match(e.message, /agent: 2 part\(s\) failed to close \(collectors: stuck; health server: EBADF\)/);
});

t.test('nothing failed: resolves; a synchronous close that throws counts too', async (t) => {
  await closeAll('x', [{ name: 'a', close: () => undefined }]);
  await t.rejects(
    closeAll('x', [
      {
        name: 'sync',
        close: () => {
          throw new Error('boom');
        },
      },
    ]),
    { code: 'PHX_CLOSE_FAILED' },
  );
});

t.test('closeAllAtOnce: the parts close concurrently, and every failure is named', async (t) => {
  const events: string[] = [];
  const slow = (name: string, ms: number, fail = false) => ({
    name,
    close: async () => {
      events.push(`start ${name}`);
      await delay(ms);
      events.push(`end ${name}`);
      if (fail) throw new Error(`${name} stuck`);
    },
  });
  const error = await closeAllAtOnce('collectors', [slow('a', 30, true), slow('b', 10, true)]).then(
    () => null,
    (e: unknown) => e as CloseError,
  );
  t.same(events, ['start a', 'start b', 'end b', 'end a'], 'both started before either ended');
  t.same(error?.failures.map((f) => f.part), ['a', 'b']);
  await closeAllAtOnce('none', []);
});
