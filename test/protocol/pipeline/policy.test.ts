import t from 'tap';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import {
  assertPipelinePolicy,
  checkPipelinePolicy,
  PipelinePolicyError,
  STOCK_PROCESSORS,
  type PolicyExpectations,
} from '../../../protocol/pipeline/policy.js';
import { renderPipeline, type PipelineParameters } from '../../../protocol/pipeline/render.js';
import { DEFAULT_CRITICAL_PATTERNS } from '../../../protocol/critical-patterns.js';
import { collectorValidate } from '../../../agent/validate.js';
import { collectorManifestPath, pipelinesDir } from '../../../common/paths.js';
import { realCollector } from '../../helpers/collector.js';

const ports = { exporter: 19100, telemetry: 19101, health: 19102 };
const expect: PolicyExpectations = { ports, rootPath: '', processors: STOCK_PROCESSORS };
const params = (rootPath: string): PipelineParameters => ({
  ports,
  instanceId: 'web-01.example.internal/baseline',
  collectionIntervalMs: 10_000,
  metricExpirationMs: 60_000,
  rootPath,
  criticalPatterns: DEFAULT_CRITICAL_PATTERNS,
  cpuThreshold: 0.05,
  memoryThresholdBytes: 256 * 1024 * 1024,
});
const TEMPLATES = ['baseline.yaml', 'optimized-a.yaml', 'optimized-b.yaml', 'optimized-c.yaml'];
const render = (name: string, rootPath = '') =>
  renderPipeline(readFileSync(path.join(pipelinesDir(), name), 'utf8'), params(rootPath), name);
const baseline = render('baseline.yaml');

/** `text` with `from` (which must be there, once) replaced by `to`. */
function edit(text: string, from: string, to: string): string {
  if (text.split(from).length !== 2) throw new Error(`the test's edit expects ${JSON.stringify(from)} once`);
  return text.replace(from, () => to);
}
/** The 1-based line of the only line of `text` that starts (after indentation) with `marker`. */
function lineOf(text: string, marker: string): number {
  const found = text.split('\n').flatMap((line, i) => (line.trimStart().startsWith(marker) ? [i + 1] : []));
  if (found.length !== 1) throw new Error(`the test expects one line starting with ${JSON.stringify(marker)}, found ${found.length}`);
  return found[0]!;
}

t.test('the built-in templates, rendered as the agent renders them, pass', async (t) => {
  for (const name of TEMPLATES) {
    t.same(checkPipelinePolicy(render(name), expect), [], `${name} with no root_path`);
    t.same(checkPipelinePolicy(render(name, '/hostfs'), { ...expect, rootPath: '/hostfs' }), [], `${name} with root_path /hostfs`);
  }
  const b = render('optimized-b.yaml');
  t.match(b, /\)\$\$"/, 'optimized-b holds `$$` literals, and they stay allowed');
  t.doesNotThrow(() => assertPipelinePolicy(b, expect, 'optimized-b.yaml'));
});

t.test('what an experiment may write stays allowed', async (t) => {
  const ottl = edit(
    render('optimized-b.yaml'),
    '  groupbyattrs: {}\n',
    '  filter/system:\n    metrics:\n      resource:\n        - IsMatch(attributes["process.executable.path"], "^/usr/sbin/")\n  groupbyattrs: {}\n',
  );
  t.same(checkPipelinePolicy(ottl, expect), [], 'an OTTL statement with a path inside it is not a file path');
  const named = edit(edit(baseline, '  host_metrics:\n', '  hostmetrics/own:\n'), '[host_metrics]', '[hostmetrics/own]');
  t.same(checkPipelinePolicy(named, expect), [], 'the old receiver name, with a name of its own');
  const loopback = edit(baseline, '  batch: {}\n', '  batch: {}\n  resource:\n    attributes:\n      - { key: a, value: "[::1]:80", action: insert }\n      - { key: b, value: "localhost:1", action: insert }\n');
  t.same(checkPipelinePolicy(loopback, expect), [], 'loopback addresses');
});

interface Hostile {
  name: string;
  config: string;
  /** Each expected violation: the line starting with `at`, and a pattern for "path: message". */
  refused: [at: string, match: RegExp][];
}
const insertExporter = (text: string, lines: string) => edit(text, 'exporters:\n', `exporters:\n${lines}`);
const HOSTILE: Hostile[] = [
  {
    name: 'an otlp exporter to another host',
    config: edit(insertExporter(baseline, '  otlp:\n    endpoint: 203.0.113.5:4317\n'), '[prometheus]', '[prometheus, otlp]'),
    refused: [['otlp:', /^exporters\.otlp: exporter 'otlp' is not allowed/], ['endpoint: 203', /'203\.0\.113\.5:4317': an address other than/]],
  },
  { name: 'the debug exporter', config: insertExporter(baseline, '  debug: {}\n'), refused: [['debug:', /exporter 'debug' is not allowed/]] },
  {
    name: 'a file exporter',
    config: insertExporter(baseline, '  file:\n    path: /tmp/phoenix.json\n'),
    refused: [['file:', /exporter 'file' is not allowed/], ['path: /tmp', /^exporters\.file\.path: '\/tmp\/phoenix\.json': a file path/]],
  },
  {
    name: 'the otlp receiver',
    config: edit(baseline, 'receivers:\n', 'receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:4317\n'),
    refused: [['otlp:', /^receivers\.otlp: receiver 'otlp' is not allowed/]],
  },
  {
    name: 'a filelog receiver',
    config: edit(baseline, 'receivers:\n', 'receivers:\n  filelog:\n    include: [/var/log/syslog]\n'),
    refused: [['filelog:', /receiver 'filelog' is not allowed/], ['include:', /receivers\.filelog\.include\[0\]: '\/var\/log\/syslog': a file path/]],
  },
  {
    name: 'the prometheus exporter on every interface',
    config: edit(baseline, 'endpoint: 127.0.0.1:19100', 'endpoint: 0.0.0.0:19100'),
    refused: [['endpoint: 0.0.0.0', /^exporters\.prometheus\.endpoint: endpoint must be 127\.0\.0\.1:19100 .*got '0\.0\.0\.0:19100'/]],
  },
  {
    name: 'the prometheus exporter on another port',
    config: edit(baseline, 'endpoint: 127.0.0.1:19100', 'endpoint: 127.0.0.1:19999'),
    refused: [['endpoint: 127.0.0.1:19999', /endpoint must be 127\.0\.0\.1:19100 .*got '127\.0\.0\.1:19999'/]],
  },
  {
    name: 'tls under the exporter',
    config: edit(baseline, '    metric_expiration: 1m\n', '    metric_expiration: 1m\n    tls:\n      cert_file: /etc/ssl/phoenix.pem\n'),
    refused: [['tls:', /^exporters\.prometheus\.tls: 'tls' is not allowed/], ['cert_file:', /'\/etc\/ssl\/phoenix\.pem': a file path/]],
  },
  {
    name: '${env:HOME} in a value',
    config: edit(baseline, 'metric_expiration: 1m', 'metric_expiration: ${env:HOME}'),
    refused: [['metric_expiration:', /^exporters\.prometheus\.metric_expiration: '\$\{env:HOME\}': '\$' is not allowed/]],
  },
  {
    name: '${file:/etc/passwd} in a value',
    config: edit(baseline, 'value: "web-01.example.internal/baseline"', 'value: "${file:/etc/passwd}"'),
    refused: [['value:', /attributes\[0\]\.value: '\$\{file:\/etc\/passwd\}': '\$' is not allowed/]],
  },
  { name: '$HOME', config: edit(baseline, 'level: info', 'level: $HOME'), refused: [['level: $HOME', /logs\.level: '\$HOME': '\$' is not allowed/]] },
  {
    name: 'a `$` written with an escape, which YAML undoes',
    config: edit(baseline, 'level: info', 'level: "\\x24{env:HOME}"'),
    refused: [['level: "', /'\$\{env:HOME\}': '\$' is not allowed/]],
  },
  {
    name: 'collector logs to a file',
    config: edit(baseline, '      encoding: json\n', '      encoding: json\n      output_paths: [/tmp/collector.log]\n'),
    refused: [['output_paths:', /^service\.telemetry\.logs\.output_paths: 'output_paths' is not allowed/]],
  },
  {
    name: 'a telemetry reader on every interface',
    config: edit(baseline, 'host: 127.0.0.1\n', 'host: 0.0.0.0\n'),
    refused: [['host: 0.0.0.0', /readers\[0\]\.pull\.exporter\.prometheus\.host: host must be 127\.0\.0\.1, got '0\.0\.0\.0'/]],
  },
  { name: 'a telemetry reader on another port', config: edit(baseline, 'port: 19101', 'port: 8888'), refused: [['port: 8888', /port must be 19101 .*got 8888/]] },
  {
    name: 'a pushing telemetry reader',
    config: edit(baseline, '        - pull:\n            exporter:\n', '        - periodic:\n            exporter:\n'),
    refused: [['- periodic:', /readers\[0\]\.periodic: 'periodic' is not allowed here; only pull/]],
  },
  ...['pprof', 'zpages', 'file_storage'].map((extension) => ({
    name: `the ${extension} extension`,
    config: edit(baseline, 'extensions:\n', `extensions:\n  ${extension}:\n    endpoint: 127.0.0.1:1777\n`),
    refused: [[`${extension}:`, new RegExp(`^extensions\\.${extension}: extension '${extension}' is not allowed`)]] as Hostile['refused'],
  })),
  { name: 'a connectors section', config: `${baseline}\nconnectors:\n  count: {}\n`, refused: [['connectors:', /^connectors: 'connectors' is not allowed/]] },
  {
    name: 'an anchor and an alias',
    config: edit(baseline, '  batch: {}\n', '  batch: &shared {}\n  groupbyattrs: *shared\n'),
    refused: [['batch:', /processors\.batch: an anchor \(&shared\)/], ['groupbyattrs:', /processors\.groupbyattrs: an alias \(\*shared\)/]],
  },
  {
    name: 'a merge key',
    config: edit(baseline, '    endpoint: 127.0.0.1:19100\n', '    <<: { endpoint: "0.0.0.0:19100" }\n'),
    refused: [['<<:', /prometheus\.<<: a merge key/], ['<<:', /'0\.0\.0\.0:19100': an address other/]],
  },
  {
    name: 'duplicate keys',
    config: edit(baseline, '    endpoint: 127.0.0.1:19100\n', '    endpoint: 127.0.0.1:19100\n    endpoint: 0.0.0.0:19100\n'),
    refused: [['endpoint: 0.0.0.0', /^duplicate key 'endpoint'/]],
  },
  { name: 'two documents', config: `${baseline}\n---\nexporters:\n  otlp: {}\n`, refused: [['---', /^a second YAML document/]] },
  { name: 'root_path /etc', config: edit(baseline, 'root_path: ""', 'root_path: /etc'), refused: [['root_path:', /root_path must be '' .*got '\/etc'/]] },
  {
    name: 'the filesystem scraper',
    config: edit(baseline, '      processes: {}\n', '      processes: {}\n      filesystem: {}\n'),
    refused: [['filesystem:', /scrapers\.filesystem: 'filesystem' is not allowed here; only process, processes/]],
  },
  {
    name: 'a URL in a processor config',
    config: edit(baseline, '  batch: {}\n', '  batch: {}\n  resource:\n    attributes:\n      - key: sink\n        value: http://203.0.113.5/x\n        action: insert\n'),
    refused: [['value: http', /processors\.resource\.attributes\[0\]\.value: 'http:\/\/203\.0\.113\.5\/x': a URL/]],
  },
  {
    name: 'a pipeline using an undefined component',
    config: edit(baseline, 'processors: [batch]', 'processors: [batch, transform/missing]'),
    refused: [['processors: [batch,', /processors\[1\]: processor 'transform\/missing' is used but not defined/]],
  },
  {
    name: "a '::' key, which the collector reads as nested keys",
    config: edit(baseline, 'service:\n', 'service:\n  telemetry::logs::output_paths: [stdout]\n'),
    refused: [['telemetry::', /'::'/]],
  },
  { name: 'an explicit tag', config: edit(baseline, 'level: info', 'level: !!str info'), refused: [['level: !!str', /an explicit tag \(tag:yaml\.org,2002:str\)/]] },
  { name: 'a YAML directive', config: `%YAML 1.2\n---\n${baseline}`, refused: [['%YAML', /a YAML directive/]] },
  {
    name: 'every interface, written as :PORT',
    config: edit(baseline, '  batch: {}\n', '  batch: {}\n  resource:\n    attributes: [{ key: a, value: ":4317", action: insert }]\n'),
    refused: [['attributes: [', /':4317': an address other than/]],
  },
  { name: 'a processor this collector lacks', config: edit(baseline, '  batch: {}\n', '  batch: {}\n  tail_sampling: {}\n'), refused: [['tail_sampling:', /this collector's processors are batch, filter/]] },
];

t.test('each hostile pipeline is refused, naming its line, key and value', async (t) => {
  for (const c of HOSTILE) {
    const found = checkPipelinePolicy(c.config, expect);
    for (const [at, match] of c.refused) {
      const line = lineOf(c.config, at);
      t.ok(
        found.some((v) => v.line === line && match.test(`${v.path === '' ? '' : `${v.path}: `}${v.message}`)),
        `${c.name}: line ${line} matches ${match}`,
        { found },
      );
    }
  }
});

t.test('never throws: what is not a config at all is refused', async (t) => {
  for (const text of ['', '---\n', 'a: [', '- receivers\n', 'receivers: 5\n', '\u0000', 'exporters:\n  ? [a, b]\n  : x\n']) {
    const found = checkPipelinePolicy(text, expect);
    t.ok(found.length > 0, `${JSON.stringify(text)} refused: ${found[0]?.message}`);
  }
});

t.test('assertPipelinePolicy throws a coded error naming source:line and the first five reasons', async (t) => {
  const config = insertExporter(baseline, '  debug: {}\n  file: {}\n  otlp: {}\n  kafka: {}\n  zipkin: {}\n  otlphttp: {}\n  loki: {}\n');
  const error = t.throws(() => assertPipelinePolicy(config, expect, 'upload.yaml')) as PipelinePolicyError;
  t.ok(error instanceof PipelinePolicyError);
  t.equal(error.code, 'PHX_PIPELINE_POLICY');
  t.equal(error.exitCode, 2);
  t.equal(error.violations.length, 7);
  t.match(error.message, /^upload\.yaml: the pipeline policy refuses/);
  t.match(error.message, `upload.yaml:${lineOf(config, 'debug:')}: exporters.debug: exporter 'debug' is not allowed`);
  t.match(error.message, /zipkin.*; and 2 more$/);
  t.notMatch(error.message, /otlphttp/);
});

t.test('STOCK_PROCESSORS are the manifest\'s processors, under the names `components` prints', async (t) => {
  // Module directory → the component name its factory registers (the binary's `components` output).
  const NAMES: Record<string, string> = {
    batchprocessor: 'batch',
    filterprocessor: 'filter',
    groupbyattrsprocessor: 'groupbyattrs',
    metricstransformprocessor: 'metrics_transform',
    resourceprocessor: 'resource',
    transformprocessor: 'transform',
  };
  const manifest = parse(readFileSync(collectorManifestPath(), 'utf8')) as { processors: { gomod: string }[] };
  const modules = manifest.processors.map((p) => p.gomod.split(' ')[0]!.split('/').pop()!);
  t.same(modules.filter((m) => !(m in NAMES)), [], 'every processor module of the manifest is named here');
  t.same([...STOCK_PROCESSORS].sort(), modules.map((m) => NAMES[m]).sort());
});

t.test('the policy allows what the real collector accepts, and refuses a trick it would accept', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phoenix-policy-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const binary = realCollector();
  const allowed = render('optimized-b.yaml');
  await writeFile(path.join(dir, 'allowed.yaml'), allowed);
  const ok = await collectorValidate(binary, path.join(dir, 'allowed.yaml'));
  t.equal(ok.code, 0, `the collector validates optimized-b: ${ok.output}`);
  // A top-level `a::b` key reaches into service.telemetry: the collector takes it, the policy does not.
  const trick = `${baseline}\nservice::telemetry::logs::output_paths: [${path.join(dir, 'collector.log')}]\n`;
  await writeFile(path.join(dir, 'trick.yaml'), trick);
  t.equal((await collectorValidate(binary, path.join(dir, 'trick.yaml'))).code, 0, 'the collector accepts the trick');
  t.match(checkPipelinePolicy(trick, expect), [{ line: lineOf(trick, 'service::'), message: /'::'/ }]);
});
