import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, resolveConfig } from '../../../agent/config/load.js';
import { parseDuration, formatDuration } from '../../../common/duration.js';
import { DEFAULT_CRITICAL_PATTERNS } from '../../../protocol/critical-patterns.js';
import { ConfigError } from '../../../common/errors.js';

t.test('durations', async (t) => {
  t.equal(parseDuration('15s'), 15_000);
  t.equal(parseDuration('1h30m'), 5_400_000);
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('1.5s'), 1500);
  for (const bad of ['', '15', 's', '1x', '15s ', '-1s', '1s2', 'x'.repeat(40)]) t.equal(parseDuration(bad), null, `rejects '${bad}'`);
  t.equal(formatDuration(10_000), '10s');
  t.equal(formatDuration(120_000), '2m');
  t.equal(formatDuration(1500), '1500ms');
});

t.test('no config file: documented defaults', async (t) => {
  const config = loadConfig(undefined, { env: { HOME: '/home/x' } });
  t.equal(config.source, 'defaults');
  t.equal(config.interval, 15_000);
  t.same(config.experiment.variants.map((v) => v.name), ['baseline', 'optimized-a']);
  t.ok(config.experiment.variants.every((v) => v.builtin && v.templatePath.endsWith(`${v.name}.yaml`)));
  t.same(config.critical.patterns, DEFAULT_CRITICAL_PATTERNS);
  t.equal(config.pipeline.collectionInterval, 10_000);
  t.equal(config.pipeline.metricExpiration, 60_000);
  t.equal(config.ports.base, 19_100);
  t.equal(config.host.kind, 'vm');
  t.equal(config.stateDir, '/home/x/.local/state/phoenix');
  t.equal(config.pricing.perThousandSeriesMonth, 6.5);
  t.same(config.loss, { enabled: true, topK: 10 }, 'loss measurements on, top 10');
});

t.test('loss.enabled: false turns the loss measurements off and keeps topK', async (t) => {
  t.same(resolveConfig({ loss: { enabled: false } }, 'a.yaml', '/tmp').loss, { enabled: false, topK: 10 });
  t.same(resolveConfig({ loss: { enabled: true, topK: 3 } }, 'a.yaml', '/tmp').loss, { enabled: true, topK: 3 });
});

t.test('environment fills host identity and state dir', async (t) => {
  const config = resolveConfig({}, 'defaults', '/', { env: { PHOENIX_HOST_ID: 'node-7', KUBERNETES_SERVICE_HOST: '10.0.0.1', STATE_DIRECTORY: '/var/lib/phoenix' } });
  t.equal(config.host.id, 'node-7');
  t.equal(config.host.kind, 'k8s-node');
  t.equal(config.stateDir, '/var/lib/phoenix');
});

t.test('a YAML file: values, relative paths, custom variant', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-cfg-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'mine.yaml'), 'extensions: {}\n');
  const file = path.join(dir, 'agent.yaml');
  await writeFile(
    file,
    [
      'host: { id: web-1, kind: vm, labels: { env: prod, team: core } }',
      'interval: 30s',
      'experiment:',
      '  variants: [baseline, { name: mine, pipeline: mine.yaml }]',
      '  schedule: "0 * * * *"',
      '  duration: 15m',
      'critical: { patterns: [sshd, "postgres.*"] }',
      'ports: { base: 0 }',
      'stateDir: ./state',
    ].join('\n'),
  );
  const config = loadConfig(file);
  t.equal(config.host.id, 'web-1');
  t.same(config.host.labels, { env: 'prod', team: 'core' });
  // A label called __proto__ is an ordinary label, kept as an own key.
  await writeFile(file, 'host: { labels: { __proto__: x, constructor: y } }\n');
  t.same(Object.entries(loadConfig(file).host.labels), [['__proto__', 'x'], ['constructor', 'y']]);
  t.equal(config.interval, 30_000);
  t.equal(config.collector.healthInterval, 15_000, 'health checks every 15 s unless told otherwise');
  t.same(config.experiment.variants[1], { name: 'mine', templatePath: path.join(dir, 'mine.yaml'), builtin: false });
  t.equal(config.experiment.schedule, '0 * * * *');
  t.equal(config.experiment.durationMs, 900_000);
  t.equal(config.stateDir, path.join(dir, 'state'));
});

t.test('bad configs: ConfigError (exit 2) naming file, field and value', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ interval: 'soon' }, /^a\.yaml: interval must be a duration .*got 'soon'$/],
    [{ interval: '100ms' }, /interval must be between 1000 ms/],
    [{ collector: { healthInterval: '10m' } }, /collector\.healthInterval must be between 1000 ms and 300000 ms/],
    [{ ports: { base: 80 } }, /ports\.base must be 0 \(automatic\) or 1024-65500, got 80/],
    [{ experiment: { variants: ['baseline'] } }, /experiment\.variants must list exactly two variants/],
    [{ experiment: { variants: ['baseline', 'fancy'] } }, /experiment\.variants\.1 must be one of baseline, optimized-a, optimized-b/],
    [{ experiment: { variants: ['baseline', 'baseline'] } }, /two different variants, got 'baseline' twice/],
    [{ experiment: { variants: ['baseline', { name: 'x', pipeline: 'nope.yaml' }] } }, /experiment\.variants\.1\.pipeline: no such file/],
    [{ experiment: { schedule: 'every day', duration: '10m' } }, /experiment\.schedule must be a cron expression .*got 'every day'/],
    [{ experiment: { schedule: '0 * * * *' } }, /schedule and experiment\.duration go together/],
    [{ critical: { patterns: ['(?!sshd)'] } }, /critical\.patterns\.0 uses lookaround/],
    [{ critical: { patterns: ['ss(hd'] } }, /critical\.patterns\.0 is not a valid regular expression/],
    [{ critical: { patterns: ['my app'] } }, /critical\.patterns\.0 must not contain spaces/],
    [{ critical: { patterns: [] } }, /critical\.patterns must list at least one pattern/],
    [{ host: { kind: 'laptop' } }, /host\.kind must be 'vm' or 'k8s-node', got 'laptop'/],
    [{ host: { labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])) } }, /host\.labels must have at most 64 labels, got /],
    [{ host: { labels: ['env'] } }, /host\.labels/],
    [{ host: { labels: { 'bad name': 'x' } } }, /label names are letters/],
    [{ otlp: { endpoint: 'localhost:4317' } }, /otlp\.endpoint must be an http:\/\/ or https:\/\/ URL/],
    [{ pipeline: { collectionInterval: '30s', metricExpiration: '40s' } }, /metricExpiration must be at least twice/],
    [{ pipeline: { rootPath: 'relative/dir' } }, /pipeline\.rootPath must be empty or an absolute path/],
    [{ pricing: { currency: 'EUR' } }, /pricing\.currency must be 'USD', got 'EUR'/],
    [{ health: { port: 70000 } }, /health\.port must be 0-65535, got 70000/],
    [{ health: { host: 'example.com', port: 9000 } }, /health\.host must be an IP address .*got 'example\.com'/],
    [{ health: {} }, /health\.port/],
    [{ loss: { enabled: 'no' } }, /^a\.yaml: loss\.enabled must be true or false, got 'no'$/],
    [{ loss: { enabled: 0 } }, /^a\.yaml: loss\.enabled must be true or false, got 0$/],
    [{ loss: { topK: 0 } }, /loss\.topK must be a whole number from 1 to 100, got 0/],
    [{ colector: {} }, /unknown field 'colector'/],
    [{ collector: { binary: '/x', restart: true } }, /unknown field 'collector\.restart'/],
  ];
  for (const [raw, message] of cases) {
    const error = t.throws(() => resolveConfig(raw, 'a.yaml', '/tmp'), ConfigError, JSON.stringify(raw)) as ConfigError;
    t.match(error?.message, message);
    t.equal(error?.exitCode, 2);
  }
});

t.test('bad files', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-cfg-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  t.throws(() => loadConfig(path.join(dir, 'missing.yaml')), /missing\.yaml: cannot read config file \(ENOENT\)/);
  const broken = path.join(dir, 'broken.yaml');
  await writeFile(broken, 'interval: 15s\n  bad: [\n');
  t.throws(() => loadConfig(broken), /broken\.yaml: invalid YAML at line \d+/);
  const list = path.join(dir, 'list.yaml');
  await writeFile(list, '- a\n- b\n');
  t.throws(() => loadConfig(list), /list\.yaml: the config must be a YAML mapping/);
  const dup = path.join(dir, 'dup.yaml');
  await writeFile(dup, 'interval: 15s\ninterval: 20s\n');
  t.throws(() => loadConfig(dup), /dup\.yaml: invalid YAML/);
});
