import t from 'tap';
import { criticalRegex, renderPipeline, placeholderValues, stickyCpuSeconds, type PipelineParameters } from '../../../protocol/pipeline/render.js';
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
  for (const name of ['baseline.yaml', 'optimized-a.yaml', 'optimized-b.yaml', 'optimized-c.yaml']) {
    const template = readFileSync(path.join(pipelinesDir(), name), 'utf8');
    for (const p of [params, multiline]) {
      t.equal(lines(renderPipeline(template, p, name)), lines(template), `${name}: same number of lines`);
    }
  }
});

t.test('the sticky limit: cpuThreshold x 5 min unless given, a plain decimal, a bad one named', async (t) => {
  t.equal(stickyCpuSeconds(0.05), 15);
  t.equal(placeholderValues(params).cpu_seconds_sticky, '15', 'from the CPU threshold');
  t.equal(placeholderValues({ ...params, cpuThreshold: 0.2 }).cpu_seconds_sticky, '60');
  t.equal(placeholderValues({ ...params, cpuSecondsSticky: 42.5 }).cpu_seconds_sticky, '42.5', 'given');
  t.equal(placeholderValues({ ...params, cpuSecondsSticky: 1e-5 }).cpu_seconds_sticky, '0.00001', 'never an exponent: the OTTL parser refuses 1e-05');
  t.equal(placeholderValues({ ...params, cpuSecondsSticky: 1e9 }).cpu_seconds_sticky, '1000000000');
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2e9]) {
    t.throws(() => placeholderValues({ ...params, cpuSecondsSticky: bad }), { code: 'PHX_PIPELINE_TEMPLATE', message: new RegExp(`^pipeline parameters: cpuSecondsSticky .* got ${String(bad)}$`) }, `refuses ${bad}`);
  }
  const template = readFileSync(path.join(pipelinesDir(), 'optimized-c.yaml'), 'utf8');
  const rendered = renderPipeline(template, { ...params, cpuSecondsSticky: 90 }, 'optimized-c.yaml');
  t.match(rendered, /where metric\.name == "phoenix\.cpu\.total" and value_double > 90\n/, 'optimized-c compares its CPU total with the limit');
  t.notMatch(rendered, /\{\{/, 'no placeholder is left');
  t.throws(() => renderPipeline(template, { ...params, cpuSecondsSticky: -3 }, 'optimized-c.yaml'), /^optimized-c\.yaml: cpuSecondsSticky .* got -3$/, 'naming the template');
});
