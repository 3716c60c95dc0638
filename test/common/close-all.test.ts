// Closing a component of several parts: each part is tried in order, and every failure is named.
import t from 'tap';
import { closeAll, CloseError } from '../../common/close-all.js';

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
