// The hub says at start how many files it may open (every agent connection is one of them), and warns when that
// limit is low enough to cap a fleet: a real hub process under `prlimit`, and one under this machine's own limit.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { openFileLimits } from '../../common/open-files.js';
import { checkHubServes } from '../helpers/hub-command.js';
import { hubProcessSetup } from '../helpers/phoenix-processes.js';
import { tsLoaderArgs } from '../helpers/spawn-ts.js';

const HUB_BIN = fileURLToPath(new URL('../../hub/bin.ts', import.meta.url));

async function hubLog(t: Parameters<typeof checkHubServes>[0], dir: string, prefix: string[]): Promise<string> {
  const setup = await hubProcessSetup(dir);
  const argv = ['env', 'TS_NODE_TRANSPILE_ONLY=1', ...prefix, process.execPath, ...tsLoaderArgs(), HUB_BIN, '--port', String(setup.port), '--data-dir', setup.dataDir, '--token-file', setup.tokenFile, '--admin-token-file', setup.adminTokenFile];
  return checkHubServes(t, argv, setup.port);
}

const lines = (log: string) => log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; openFileLimit?: number });

t.test('a hub with few files says so; with enough, it only tells its limit', { timeout: 120_000 }, async (t) => {
  const dir = t.testdir({ low: {}, normal: {} });
  const low = lines(await hubLog(t, path.join(dir, 'low'), ['prlimit', '--nofile=1000:1000']));
  t.equal(low.find((l) => l.msg === 'hub listening')?.openFileLimit, 1000, 'the limit, in the listening line');
  const warning = low.find((l) => l.level === 40 && /open few files/.test(l.msg));
  t.ok(warning, 'a warning naming the limit');
  t.equal(warning?.openFileLimit, 1000);

  const own = openFileLimits();
  t.ok(own && own.soft >= 4096, `this machine's own limit (${own?.soft}) is not low`);
  const normal = lines(await hubLog(t, path.join(dir, 'normal'), []));
  t.equal(normal.find((l) => l.msg === 'hub listening')?.openFileLimit, own!.soft);
  t.notOk(normal.some((l) => /open few files/.test(l.msg)), 'no warning');
});
