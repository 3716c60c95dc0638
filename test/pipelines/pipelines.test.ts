// Every built-in pipeline variant, rendered from its template, passes the real collector's `validate`.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveConfig } from '../../agent/config/load.js';
import { BUILTIN_VARIANTS } from '../../agent/config/schema.js';
import { renderVariants } from '../../agent/experiment.js';
import { silentLogger } from '../../common/logger.js';
import { collectorValidate, validatePipelines } from '../../agent/validate.js';
import { realCollector } from '../helpers/collector.js';

const binary = realCollector();

t.test('each built-in variant renders and validates with the real collector', async (t) => {
  for (const [a, b] of [
    ['baseline', 'optimized-a'],
    ['optimized-b', 'optimized-c'],
  ] as const) {
    const config = resolveConfig({ experiment: { variants: [a, b] }, ports: { base: 0 }, pipeline: { rootPath: tmpdir() } }, 'test', '/');
    const results = await validatePipelines(config, binary, silentLogger());
    for (const r of results) t.ok(r.ok, `${r.variant} validates${r.error ? `: ${r.error}` : ''}`);
  }
  t.equal(BUILTIN_VARIANTS.length, 4);
});

t.test('optimized-c renders its sticky limit from the CPU threshold, with optimized-b\'s rules beside it', async (t) => {
  for (const [cpuThreshold, sticky] of [
    [0.05, '15'],
    [0.1, '30'],
  ] as const) {
    const config = resolveConfig({ experiment: { variants: ['optimized-b', 'optimized-c'] }, pipeline: { cpuThreshold } }, 'test', '/');
    const [b, c] = await renderVariants(config);
    const classify = (text: string) => text.split('\n').filter((line) => line.includes('set(resource.attributes["phoenix.top"], true)'));
    // Every rule of optimized-b's, and one more: the process's CPU-seconds, summed over its states, over the limit.
    t.same(classify(c!.config), [...classify(b!.config).slice(0, 1), `          - set(resource.attributes["phoenix.top"], true) where metric.name == "phoenix.cpu.total" and value_double > ${sticky}`, ...classify(b!.config).slice(1)], `threshold ${cpuThreshold}: limit ${sticky} CPU-seconds`);
    t.match(c!.config, /copy_metric\(name="phoenix\.cpu\.total"\) where metric\.name == "process\.cpu\.time"\n[^]*aggregate_on_attributes\("sum", \[\]\) where metric\.name == "phoenix\.cpu\.total"\n/, 'copied, then summed in a later group');
    t.match(c!.config, /- name == "process\.cpu\.utilization" or name == "phoenix\.cpu\.total"\n/, 'neither classifying metric is exported');
    t.match(c!.config, /\)\)\$\$"\)\n/, 'the literal $ of the delete regex is written $$');
  }
});

t.test('both variants of a pair share collection interval and metric expiration, and get their own ports', async (t) => {
  const config = resolveConfig(
    { experiment: { variants: ['baseline', 'optimized-b'] }, pipeline: { collectionInterval: '7s', metricExpiration: '45s' } },
    'test',
    '/',
  );
  const [a, b] = await renderVariants(config);
  for (const v of [a, b]) {
    t.match(v.config, /collection_interval: 7s/);
    t.match(v.config, /metric_expiration: 45s/);
    t.match(v.config, new RegExp(`value: "[^"]*/${v.name}"`), 'own service.instance.id');
  }
  t.same(a.ports, { exporter: 19100, telemetry: 19101, health: 19102 });
  t.same(b.ports, { exporter: 19110, telemetry: 19111, health: 19112 });
  t.not(a.configHash, b.configHash);
});

t.test('a broken custom pipeline is reported by the collector with the reason', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-pipe-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const template = path.join(dir, 'broken.yaml');
  await writeFile(
    template,
    [
      'extensions: { health_check: { endpoint: "127.0.0.1:{{health_port}}" } }',
      'receivers: { host_metrics: { collection_interval: {{collection_interval}}, scrapers: { process: {} } } }',
      'processors: { filter: { metrics: { metric: [ "this is not OTTL" ] } } }',
      'exporters: { prometheus: { endpoint: "127.0.0.1:{{exporter_port}}", metric_expiration: {{metric_expiration}} } }',
      'service:',
      '  extensions: [health_check]',
      '  telemetry: { metrics: { readers: [ { pull: { exporter: { prometheus: { host: 127.0.0.1, port: {{telemetry_port}} } } } } ] } }',
      '  pipelines: { metrics: { receivers: [host_metrics], processors: [filter], exporters: [prometheus] } }',
    ].join('\n'),
  );
  const config = resolveConfig({ experiment: { variants: ['baseline', { name: 'broken', pipeline: template }] }, ports: { base: 0 } }, 'test', '/');
  const [baseline, broken] = await validatePipelines(config, binary, silentLogger());
  t.ok(baseline!.ok);
  t.notOk(broken!.ok);
  t.match(broken!.error, /filter/, 'the collector says which component is wrong');
  const direct = await collectorValidate(binary, template);
  t.not(direct.code, 0, 'unrendered placeholders are not a valid collector config either');
});
