// The one error → exit-code mapping every CLI uses.
import t from 'tap';
import { CommanderError } from 'commander';
import { exitCodeFor } from '../../common/cli-exit.js';
import { ConfigError, UsageError } from '../../common/errors.js';

function run(error: unknown): { code: number; said: string } {
  let said = '';
  const code = exitCodeFor('phoenix-x', error, { write: (text: string) => (said += text) });
  return { code, said };
}

t.test('help and version 0, a refused flag 2 (commander has said why), each silent here', async (t) => {
  t.same(run(new CommanderError(0, 'commander.helpDisplayed', '')), { code: 0, said: '' });
  t.same(run(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'")), { code: 2, said: '' });
});

t.test("a coded error: its message, its own exit code", async (t) => {
  t.same(run(new ConfigError("agent.yaml: interval must be a duration, got 'often'")), {
    code: 2,
    said: "phoenix-x: agent.yaml: interval must be a duration, got 'often'\n",
  });
  t.equal(run(new UsageError('--token-file is required')).code, 2);
});

t.test('anything else is unexpected: exit 1 with the stack, for a bug report', async (t) => {
  const { code, said } = run(new TypeError('x is undefined'));
  t.equal(code, 1);
  t.match(said, /^phoenix-x: unexpected error: TypeError: x is undefined\n\s+at /);
  t.same(run('a string'), { code: 1, said: 'phoenix-x: unexpected error: a string\n' });
});
