import t from 'tap';
import { criticalRegex, renderPipeline, placeholderValues, type PipelineParameters } from '../../../protocol/pipeline/render.js';
import { PipelineTemplateError } from '../../../protocol/pipeline/errors.js';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pipelinesDir } from '../../../common/paths.js';

const params: PipelineParameters = {
  ports: { exporter: 19100, telemetry: 19101, health: 19102 },
  instanceId: 'host-1/baseline',
  collectionIntervalMs: 10_000,
  metricExpirationMs: 60_000,
  rootPath: '',
  criticalPatterns: ['sshd', 'containerd-shim(-runc-v2)?', 'a\\.b$'],
  cpuThreshold: 0.05,
  memoryThresholdBytes: 268435456,
};
const REQUIRED = 'p: {{exporter_port}}\nt: {{telemetry_port}}\nh: {{health_port}}\ni: {{collection_interval}}\ne: {{metric_expiration}}\n';

t.test('criticalRegex anchors the alternation', async (t) => {
  t.equal(criticalRegex(['sshd', 'kube.*']), '^(?:sshd|kube.*)$');
  const re = new RegExp(criticalRegex(['sshd', 'kube.*']));
  t.ok(re.test('sshd'));
  t.notOk(re.test('sshd-helper'), 'anchored at the end');
  t.notOk(re.test('xsshd'), 'anchored at the start');
});

t.test('values are escaped for YAML and OTTL, and $ is doubled for the collector', async (t) => {
  const v = placeholderValues(params);
  t.equal(v.critical_regex, '"^(?:sshd|containerd-shim(-runc-v2)?|a\\\\.b$$)$$"');
  t.equal(v.critical_regex_ottl, '"^(?:sshd|containerd-shim(-runc-v2)?|a\\\\.b$$)$$"');
  t.equal(v.collection_interval, '10s');
  t.equal(v.collection_interval_ottl, '"10s"');
  t.equal(v.root_path, '""');
  // The YAML value, once the collector undoes `$$`, is the regex itself.
  const doc = parse(`names: [${v.critical_regex}]`) as { names: string[] };
  t.equal(doc.names[0]!.replace(/\$\$/g, '$'), criticalRegex(params.criticalPatterns));
});

t.test('renders and reports unknown or missing placeholders with the template name', async (t) => {
  const out = renderPipeline(`${REQUIRED}x: {{ cpu_threshold }}\n`, params, 'tpl.yaml');
  t.match(out, /p: 19100\nt: 19101\nh: 19102\ni: 10s\ne: 1m\nx: 0\.05/);
  t.throws(() => renderPipeline(`${REQUIRED}\ny: {{nope}}`, params, 'tpl.yaml'), PipelineTemplateError);
  t.throws(() => renderPipeline(`${REQUIRED}\ny: {{nope}}`, params, 'tpl.yaml'), /tpl\.yaml:7: unknown placeholder \{\{nope\}\}/);
  t.throws(() => renderPipeline('p: {{exporter_port}}', params, 'tpl.yaml'), /tpl\.yaml: the template must use \{\{telemetry_port\}\}, \{\{health_port\}\}/);
});

t.test('rendering keeps line numbers: a placeholder never adds a line', async (t) => {
  // The policy and the collector name lines of the rendered config; they must be the template's lines.
  const multiline = { ...params, instanceId: 'a\r\nb\rc', criticalPatterns: ['x\ny', 'z\r'] };
  const lines = (text: string) => text.split(/\r\n?|\n/).length;
  for (const name of ['baseline.yaml', 'optimized-a.yaml', 'optimized-b.yaml']) {
    const template = readFileSync(path.join(pipelinesDir(), name), 'utf8');
    for (const p of [params, multiline]) {
      t.equal(lines(renderPipeline(template, p, name)), lines(template), `${name}: same number of lines`);
    }
  }
});
