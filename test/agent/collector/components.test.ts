import t, { type Test } from 'tap';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collectorProcessors, processorNames } from '../../../agent/collector/components.js';
import { STOCK_PROCESSORS } from '../../../protocol/pipeline/policy.js';
import { realCollector } from '../../helpers/collector.js';

const binary = realCollector();

/** A stand-in collector: a shell script in a temp dir that does `body` and records each run in ./runs. */
async function fakeCollector(t: Test, body: string): Promise<{ file: string; runs: () => Promise<number> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phoenix-components-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'otelcol');
  const runs = path.join(dir, 'runs');
  await writeFile(file, `#!/bin/sh\necho run >> '${runs}'\n${body}\n`);
  await chmod(file, 0o755);
  return { file, runs: async () => (await readFile(runs, 'utf8').catch(() => '')).split('\n').filter(Boolean).length };
}

t.test('the real collector lists its processors, once per binary', async (t) => {
  const names = await collectorProcessors(binary);
  for (const name of ['transform', 'filter', 'groupbyattrs', 'batch']) t.ok(names.includes(name), `has ${name}`);
  if (path.basename(binary) === 'otelcol-phoenix') t.same([...names].sort(), [...STOCK_PROCESSORS].sort(), "Phoenix's build has exactly the stock processors");
  t.equal(collectorProcessors(binary), collectorProcessors(binary), 'the same answer, not a second run');
});

t.test('parses the `components` YAML and refuses any other shape', async (t) => {
  t.same(processorNames('otelcol', 'buildinfo: {command: x}\nprocessors:\n  - name: batch\n    module: m v1\n  - name: transform\n'), ['batch', 'transform']);
  t.same(processorNames('otelcol', 'processors: []\n'), []);
  t.throws(() => processorNames('otelcol', 'receivers: []\n'), { code: 'PHX_COLLECTOR_COMPONENTS', message: /^otelcol components: printed no list of processors: no top-level processors: list/ });
  t.throws(() => processorNames('otelcol', 'processors:\n  - module: m\n'), /processors\[0\] has no name/);
  t.throws(() => processorNames('otelcol', 'just text'), /no top-level processors/);
});

t.test('a failing binary rejects with a coded error naming it, and the failure is not kept', async (t) => {
  const fake = await fakeCollector(t, `if [ "$(wc -l < "$(dirname "$0")/runs")" -eq 1 ]; then echo 'Error: broken build' >&2; exit 3; fi\necho 'processors: [{name: batch}]'`);
  await t.rejects(collectorProcessors(fake.file), { code: 'PHX_COLLECTOR_COMPONENTS', message: /otelcol components: failed \(3\): Error: broken build/ });
  t.same(await collectorProcessors(fake.file), ['batch'], 'asked again after the failure');
  t.same(await collectorProcessors(fake.file), ['batch']);
  t.equal(await fake.runs(), 2, 'the answer is kept once it came');
});

t.test('output that is not the list, and a binary that hangs, are refused', async (t) => {
  const garbage = await fakeCollector(t, "echo 'not: [yaml'");
  await t.rejects(collectorProcessors(garbage.file), { code: 'PHX_COLLECTOR_COMPONENTS', message: /printed no list of processors/ });
  // `exec` so that the timeout's SIGTERM reaches the sleeping process itself.
  const hang = await fakeCollector(t, 'exec sleep 30');
  await t.rejects(collectorProcessors(hang.file, 200), { code: 'PHX_COLLECTOR_COMPONENTS', message: /did not finish within 200 ms/ });
});
