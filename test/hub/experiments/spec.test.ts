// An experiment's definition: every default filled in, each bad field refused naming its path and value, YAML and
// JSON text, and the canonical JSON that is the same whatever order the keys were written in.
import t, { type Test } from 'tap';
import { canonicalSpecJson, ExperimentSpecError, parseExperimentSpec, parseExperimentText, type ExperimentSpec } from '../../../hub/experiments/spec.js';
import { DEFAULT_CRITICAL_PATTERNS } from '../../../protocol/critical-patterns.js';

const minimal = { name: 'exp-1', baseline: { pipeline: 'default' }, candidate: { pipeline: 'optimized-b' } };
const SHA = 'a'.repeat(64);

const parse = (fields: Record<string, unknown>) => parseExperimentSpec({ ...minimal, ...fields }, 'definition');

/** The error a definition is refused with (the test fails if it is accepted). */
function refusal(t: Test, run: () => unknown): ExperimentSpecError {
  try {
    const spec = run();
    t.fail(`accepted: ${JSON.stringify(spec)}`);
  } catch (error) {
    t.type(error, ExperimentSpecError);
    const e = error as ExperimentSpecError;
    t.equal(e.code, 'PHX_EXPERIMENT_INVALID');
    t.equal(e.exitCode, 2);
    t.equal(e.name, 'ExperimentSpecError');
    return e;
  }
  return new ExperimentSpecError('(accepted)');
}

t.test('a minimal definition gets every default', async (t) => {
  const spec = parseExperimentSpec(minimal, 'definition');
  const sideDefaults = { cpuThreshold: 0.05, memoryThresholdBytes: 256 * 1024 * 1024 };
  t.strictSame(spec, {
    name: 'exp-1',
    baseline: { pipeline: 'default', parameters: sideDefaults },
    candidate: { pipeline: 'optimized-b', parameters: sideDefaults },
    parameters: { collectionInterval: 10_000, metricExpiration: 60_000 },
    critical: { patterns: [...DEFAULT_CRITICAL_PATTERNS] },
    target: {},
    rollout: { canary: { hosts: 1 }, waves: { percent: 100 }, hold: 300_000 },
    duration: null,
    criteria: { retention: 1 },
    guardrails: { criticalLossReports: 3, failedHosts: 1 },
  } satisfies ExperimentSpec);
  t.notOk('description' in spec, 'no description key when none is given');
  t.strictSame(Object.keys(spec.target), [], 'no undefined keys left in target');
  t.strictSame(Object.keys(spec.criteria), ['retention'], 'no undefined keys left in criteria');
  t.not(spec.critical.patterns, DEFAULT_CRITICAL_PATTERNS, 'the default list is copied, not shared');
});

t.test('every field as written is kept, durations in ms', async (t) => {
  const spec = parseExperimentSpec(
    {
      name: 'trial-2',
      description: 'drop idle processes',
      baseline: { pipeline: 'default', parameters: { cpuThreshold: 0.1, memoryThresholdBytes: 1024 } },
      candidate: { pipeline: `mine@sha256:${SHA}` },
      parameters: { collectionInterval: '15s', metricExpiration: '5m' },
      critical: { patterns: ['sshd', 'my-app(-worker)?'] },
      target: { kind: 'k8s-node', labels: ['env=prod'], hosts: ['h1', 'h2'] },
      rollout: { canary: 2, waves: '25%', hold: '0s' },
      duration: '1h30m',
      criteria: { reduction: '40%', retention: 0.9, cpuRatio: 1.2, restarts: 0 },
      guardrails: { criticalLossReports: 5, failedHosts: 2 },
    },
    'definition',
  );
  t.strictSame(spec, {
    name: 'trial-2',
    description: 'drop idle processes',
    baseline: { pipeline: 'default', parameters: { cpuThreshold: 0.1, memoryThresholdBytes: 1024 } },
    candidate: { pipeline: `mine@sha256:${SHA}`, parameters: { cpuThreshold: 0.05, memoryThresholdBytes: 268_435_456 } },
    parameters: { collectionInterval: 15_000, metricExpiration: 300_000 },
    critical: { patterns: ['sshd', 'my-app(-worker)?'] },
    target: { kind: 'k8s-node', labels: [{ name: 'env', op: '=', values: ['prod'] }], hosts: ['h1', 'h2'] },
    rollout: { canary: { hosts: 2 }, waves: { percent: 25 }, hold: 0 },
    duration: 5_400_000,
    criteria: { reduction: 0.4, retention: 0.9, cpuRatio: 1.2, restarts: 0 },
    guardrails: { criticalLossReports: 5, failedHosts: 2 },
  } satisfies ExperimentSpec);
});

t.test('label matchers: the four text forms and the object form', async (t) => {
  const cases: [written: unknown, expected: unknown][] = [
    ['env=prod', { name: 'env', op: '=', values: ['prod'] }],
    ['env==prod', { name: 'env', op: '=', values: ['prod'] }],
    ['env = =prod', { name: 'env', op: '=', values: ['=prod'] }],
    ['tier!=db', { name: 'tier', op: '!=', values: ['db'] }],
    ['team in (a, b)', { name: 'team', op: 'in', values: ['a', 'b'] }],
    ['zone notin (x)', { name: 'zone', op: 'notin', values: ['x'] }],
    ['  app.kubernetes.io-name = web  ', { name: 'app.kubernetes.io-name', op: '=', values: ['web'] }],
    ['team in(a,b ,c)', { name: 'team', op: 'in', values: ['a', 'b', 'c'] }],
    ['env=', { name: 'env', op: '=', values: [''] }],
    [{ name: 'team', op: 'in', values: ['a', 'b'] }, { name: 'team', op: 'in', values: ['a', 'b'] }],
    [{ name: 'env', op: '!=', values: ['dev'] }, { name: 'env', op: '!=', values: ['dev'] }],
  ];
  for (const [written, expected] of cases) {
    t.strictSame(parse({ target: { labels: [written] } }).target.labels, [expected], JSON.stringify(written));
  }
});

t.test('host shares and ratios: numbers, percentages and fractions', async (t) => {
  t.strictSame(parse({ rollout: { canary: 5, waves: 10 } }).rollout, { canary: { hosts: 5 }, waves: { hosts: 10 }, hold: 300_000 });
  t.strictSame(parse({ rollout: { canary: '10%', waves: '12.5 %' } }).rollout, { canary: { percent: 10 }, waves: { percent: 12.5 }, hold: 300_000 });
  t.strictSame(parse({ rollout: { canary: '100%' } }).rollout.canary, { percent: 100 });
  t.strictSame(parse({ criteria: { reduction: '50%', retention: '80%' } }).criteria, { reduction: 0.5, retention: 0.8 });
  t.strictSame(parse({ criteria: { reduction: 0.25, retention: 0 } }).criteria, { reduction: 0.25, retention: 0 });
  t.strictSame(parse({ criteria: { reduction: '0%', retention: '100%' } }).criteria, { reduction: 0, retention: 1 });
  t.strictSame(parse({ criteria: { reduction: 1 } }).criteria, { reduction: 1, retention: 1 });
});

t.test('loss criteria: coverage in processes, conservation as a tolerance, flapping and switches per hour', async (t) => {
  t.strictSame(
    parse({ criteria: { topCpuCoverage: 9, topRssCoverage: 10, cpuConservation: '5%', rssConservation: 0.1, flapping: 6, switches: 0.5 } }).criteria,
    { retention: 1, topCpuCoverage: 9, topRssCoverage: 10, cpuConservation: 0.05, rssConservation: 0.1, flapping: 6, switches: 0.5 },
  );
  t.strictSame(parse({ criteria: { flapping: 0, switches: 0 } }).criteria, { retention: 1, flapping: 0, switches: 0 }, 'none at all may be asked');
});

t.test('duration: null or omitted runs until stopped; text is ms', async (t) => {
  t.equal(parse({}).duration, null);
  t.equal(parse({ duration: null }).duration, null);
  t.equal(parse({ duration: '2h' }).duration, 7_200_000);
  t.equal(parse({ duration: '1s' }).duration, 1000);
});

t.test('each bad field is refused, naming the field path and the value', async (t) => {
  const cases: [fields: Record<string, unknown>, ...mentions: string[]][] = [
    [{ name: 'Exp' }, 'name must be 1-50 lowercase', "got 'Exp'"],
    [{ name: '-exp' }, 'name ', "got '-exp'"],
    [{ name: 'e'.repeat(51) }, 'name ', 'got '],
    [{ name: 7 }, 'name must be a name', 'got 7'],
    [{ description: 5 }, 'description ', 'got 5'],
    [{ description: 'x'.repeat(2001) }, 'description must be at most 2000 characters'],
    [{ colour: 'red' }, "unknown field 'colour'"],
    [{ rollout: { canry: 1 } }, "unknown field 'rollout.canry'"],
    [{ baseline: { pipeline: 'default', extra: true } }, "unknown field 'baseline.extra'"],
    [{ target: { labels: [{ name: 'env', op: '=', values: ['a'], x: 1 }] } }, "unknown field 'target.labels.0.x'"],
    [{ baseline: undefined }, 'baseline ', 'got nothing'],
    [{ candidate: { pipeline: 'mine@sha256:abc' } }, 'candidate.pipeline must name a pipeline in the catalog', "got 'mine@sha256:abc'"],
    [{ candidate: { pipeline: `mine@sha256:${'A'.repeat(64)}` } }, 'candidate.pipeline ', `'mine@sha256:${'A'.repeat(64)}'`],
    [{ baseline: { pipeline: 'Default' } }, 'baseline.pipeline ', "got 'Default'"],
    [{ baseline: { pipeline: 3 } }, 'baseline.pipeline must name a pipeline', 'got 3'],
    [{ baseline: { pipeline: 'default', parameters: { cpuThreshold: 0 } } }, 'baseline.parameters.cpuThreshold ', 'got 0'],
    [{ baseline: { pipeline: 'default', parameters: { cpuThreshold: 65 } } }, 'baseline.parameters.cpuThreshold must be a fraction of one core', 'got 65'],
    [{ candidate: { pipeline: 'x', parameters: { memoryThresholdBytes: 1.5 } } }, 'candidate.parameters.memoryThresholdBytes must be a whole number of bytes', 'got 1.5'],
    [{ parameters: { collectionInterval: '500ms' } }, 'parameters.collectionInterval must be between 1000 ms and 3600000 ms (collector scrape interval)', "got '500ms'"],
    [{ parameters: { metricExpiration: 'soon' } }, "parameters.metricExpiration must be a duration such as '15s' or '2m' (Prometheus exporter metric expiration)", "got 'soon'"],
    [{ critical: { patterns: ['ssh(?=d)'] } }, 'critical.patterns.0 uses lookaround or a backreference', "got 'ssh(?=d)'"],
    [{ critical: { patterns: ['sshd', '(a)\\1'] } }, 'critical.patterns.1 uses lookaround or a backreference'],
    [{ critical: { patterns: ['a('] } }, 'critical.patterns.0 is not a valid regular expression', "got 'a('"],
    [{ critical: { patterns: ['my app'] } }, 'critical.patterns.0 must not contain spaces', "got 'my app'"],
    [{ critical: { patterns: [] } }, 'critical.patterns must list at least one pattern', 'got []'],
    [{ target: { kind: 'pod' } }, "target.kind must be 'vm' or 'k8s-node'", "got 'pod'"],
    [{ target: { labels: ['env~prod'] } }, 'target.labels.0 must be a matcher such as', "got 'env~prod'"],
    [{ target: { labels: ['env=prod', 'team in ()'] } }, 'target.labels.1 must list 1 to 100 non-empty values', "got 'team in ()'"],
    [{ target: { labels: ['team in (a, )'] } }, 'target.labels.0 ', "got 'team in (a, )'"],
    [{ target: { labels: [`env=${'v'.repeat(257)}`] } }, 'target.labels.0 must list 1 to 100 non-empty values of at most 256 characters'],
    [{ target: { labels: [{ name: 'env', op: '=', values: ['a', 'b'] }] } }, 'target.labels.0.values must hold exactly one value for =', 'got ["a","b"]'],
    [{ target: { labels: [{ name: 'env', op: '~', values: ['a'] }] } }, 'target.labels.0 must be a matcher', '"op":"~"'],
    [{ target: { labels: 'env=prod' } }, 'target.labels ', "got 'env=prod'"],
    [{ target: { hosts: [] } }, 'target.hosts must list at least one host id', 'got []'],
    [{ target: { hosts: [''] } }, 'target.hosts.0 ', "got ''"],
    [{ rollout: { canary: 'ten' } }, "rollout.canary must be a number of hosts (1 or more) or a percentage such as '10%'", "got 'ten'"],
    [{ rollout: { canary: 0 } }, 'rollout.canary must be a number of hosts', 'got 0'],
    [{ rollout: { canary: 1.5 } }, 'rollout.canary must be a number of hosts', 'got 1.5'],
    [{ rollout: { canary: true } }, 'rollout.canary must be a number of hosts', 'got true'],
    [{ rollout: { waves: '0%' } }, 'rollout.waves must be a percentage above 0% and at most 100%', "got '0%'"],
    [{ rollout: { waves: '150%' } }, 'rollout.waves must be a percentage above 0% and at most 100%', "got '150%'"],
    [{ rollout: { hold: '8d' } }, 'rollout.hold must be between 0 ms and 604800000 ms', "got '8d'"],
    [{ duration: 'forever' }, "duration must be a duration such as '15s' or '2m' (experiment length)", "got 'forever'"],
    [{ duration: '500ms' }, 'duration must be between 1000 ms and', "got '500ms'"],
    [{ duration: 5 }, 'duration must be a duration', 'got 5'],
    [{ criteria: { reduction: '150%' } }, 'criteria.reduction must be a percentage from 0% to 100%', "got '150%'"],
    [{ criteria: { reduction: 1.5 } }, "criteria.reduction must be a fraction from 0 to 1 or a percentage such as '50%'", 'got 1.5'],
    [{ criteria: { reduction: 'half' } }, 'criteria.reduction must be a fraction from 0 to 1', "got 'half'"],
    [{ criteria: { retention: -0.1 } }, 'criteria.retention must be a fraction from 0 to 1', 'got -0.1'],
    [{ criteria: { cpuRatio: 0 } }, 'criteria.cpuRatio must be above 0', 'got 0'],
    [{ criteria: { restarts: 1.5 } }, 'criteria.restarts must be a whole number', 'got 1.5'],
    [{ criteria: { topCpuCoverage: 8.5 } }, 'criteria.topCpuCoverage must be a whole number of processes from 1 to 100', 'got 8.5'],
    [{ criteria: { topRssCoverage: 0 } }, 'criteria.topRssCoverage must be a whole number of processes from 1 to 100', 'got 0'],
    [{ criteria: { topCpuCoverage: '9' } }, 'criteria.topCpuCoverage must be a whole number of processes', "got '9'"],
    [{ criteria: { cpuConservation: '105%' } }, 'criteria.cpuConservation must be a percentage from 0% to 100%', "got '105%'"],
    [{ criteria: { rssConservation: 2 } }, 'criteria.rssConservation must be a fraction from 0 to 1', 'got 2'],
    [{ criteria: { flapping: -1 } }, 'criteria.flapping must be a number per hour, 0 or more', 'got -1'],
    [{ criteria: { switches: 'often' } }, 'criteria.switches must be a number per hour', "got 'often'"],
    [{ criteria: { flaping: 3 } }, 'flaping'],
    [{ guardrails: { criticalLossReports: 0 } }, 'guardrails.criticalLossReports ', 'got 0'],
    [{ guardrails: { failedHosts: 'x' } }, 'guardrails.failedHosts ', "got 'x'"],
    [{ guardrails: { failedHosts: 2.5 } }, 'guardrails.failedHosts must be a whole number', 'got 2.5'],
  ];
  for (const [fields, ...mentions] of cases) {
    const { message } = refusal(t, () => parse(fields));
    t.ok(message.startsWith('definition: '), `the source starts the message: ${message}`);
    for (const mention of mentions) t.ok(message.includes(mention), `${JSON.stringify(fields).slice(0, 80)}: ${JSON.stringify(message)} mentions ${JSON.stringify(mention)}`);
  }
});

t.test('a definition that is not a mapping is refused', async (t) => {
  for (const input of [null, [], 'name: x', 5, undefined]) {
    t.equal(refusal(t, () => parseExperimentSpec(input, 'body')).message, 'body: an experiment definition must be a mapping of fields', JSON.stringify(input));
  }
});

t.test('YAML text: parsed and validated; a syntax error names the line and column', async (t) => {
  const yaml = [
    'name: exp-1',
    'baseline: { pipeline: default }',
    'candidate:',
    '  pipeline: optimized-b',
    'target:',
    '  labels: [env=prod, "team in (a, b)"]',
    'rollout: { canary: 2, waves: 25% }',
    'duration: 2h',
    '',
  ].join('\n');
  const spec = parseExperimentText(yaml, 'exp.yaml');
  t.strictSame(spec.target.labels, [
    { name: 'env', op: '=', values: ['prod'] },
    { name: 'team', op: 'in', values: ['a', 'b'] },
  ]);
  t.strictSame(spec.rollout, { canary: { hosts: 2 }, waves: { percent: 25 }, hold: 300_000 });
  t.equal(spec.duration, 7_200_000);

  t.equal(
    refusal(t, () => parseExperimentText('name: exp-1\nbaseline:\n  pipeline: default\n   bad: x\n', 'exp.yaml')).message,
    'exp.yaml: invalid YAML at line 3, column 13: Nested mappings are not allowed in compact mappings',
  );
  t.match(refusal(t, () => parseExperimentText('name: exp-1\nbaseline:\n  pipeline: [default\n', 'exp.yaml')).message, /^exp\.yaml: invalid YAML at line 4, column 1: Flow sequence/, 'an unclosed list: where the text ends');
  t.equal(refusal(t, () => parseExperimentText('name: x\n  bad: : :\n', 'exp.yaml')).message.split(':').slice(0, 2).join(':'), 'exp.yaml: invalid YAML at line 1, column 7');
  t.match(refusal(t, () => parseExperimentText('name: a\nname: b\n', 'exp.yaml')).message, /^exp\.yaml: invalid YAML at line 2, column 1: .*unique/i, 'duplicate keys are refused');
  t.match(refusal(t, () => parseExperimentText('- one\n- two\n', 'exp.yaml')).message, /^exp\.yaml: .*mapping/);
  t.equal(refusal(t, () => parseExperimentText('', 'exp.yaml')).message, 'exp.yaml: name must be a name, got nothing', 'an empty document is an empty mapping');
  t.equal(refusal(t, () => parseExperimentText('name: exp-1\nbaseline: { pipeline: default }\ncandidate: { pipeline: B }\n', 'exp.yaml')).message.split(',')[0], "exp.yaml: candidate.pipeline must name a pipeline in the catalog");
});

t.test('JSON text works (JSON is YAML)', async (t) => {
  t.strictSame(parseExperimentText(JSON.stringify(minimal), 'exp.json'), parseExperimentSpec(minimal, 'exp.json'));
  t.strictSame(parseExperimentText(JSON.stringify({ ...minimal, duration: null, rollout: { canary: '10%' } }, null, 2), 'exp.json').rollout.canary, { percent: 10 });
  t.match(refusal(t, () => parseExperimentText('{"name": "a",', 'exp.json')).message, /^exp\.json: invalid YAML at line 1, column \d+/);
});

t.test('canonical JSON: the same definition gives the same text whatever the key order', async (t) => {
  const a = parseExperimentSpec(
    { name: 'exp-1', baseline: { pipeline: 'default' }, candidate: { pipeline: 'optimized-b' }, rollout: { canary: 2, waves: '50%' }, criteria: { reduction: '30%', retention: 1 }, target: { kind: 'vm', labels: ['env=prod'] } },
    'a',
  );
  const b = parseExperimentSpec(
    { target: { labels: [{ values: ['prod'], op: '=', name: 'env' }], kind: 'vm' }, criteria: { retention: '100%', reduction: 0.3 }, rollout: { waves: '50%', canary: 2 }, candidate: { pipeline: 'optimized-b' }, baseline: { pipeline: 'default' }, name: 'exp-1' },
    'b',
  );
  t.equal(canonicalSpecJson(a), canonicalSpecJson(b));
  // A spec built or read back elsewhere (e.g. from the store) may hold its keys in any order.
  const reverseKeys = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(reverseKeys) : typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)])) : v;
  const reversed = reverseKeys(a) as ExperimentSpec;
  t.not(JSON.stringify(reversed), JSON.stringify(a), 'the plain JSON differs (key order)');
  t.equal(canonicalSpecJson(reversed), canonicalSpecJson(a));

  const json = canonicalSpecJson(a);
  t.ok(json.startsWith('{"baseline":{"parameters":{"cpuThreshold":0.05,"memoryThresholdBytes":268435456},"pipeline":"default"},"candidate":'), json.slice(0, 120));
  t.strictSame(JSON.parse(json), a, 'nothing is lost');
  const keysSortedEverywhere = (v: unknown): boolean =>
    Array.isArray(v) ? v.every(keysSortedEverywhere) : typeof v !== 'object' || v === null || (Object.keys(v).join() === Object.keys(v).sort().join() && Object.values(v).every(keysSortedEverywhere));
  t.ok(keysSortedEverywhere(JSON.parse(json)), 'keys sorted at every level');

  const reordered = parse({ critical: { patterns: ['etcd', 'sshd'] } });
  t.not(canonicalSpecJson(reordered), canonicalSpecJson(parse({ critical: { patterns: ['sshd', 'etcd'] } })), 'list order is kept: it is part of the definition');
  t.match(canonicalSpecJson(reordered), /"patterns":\["etcd","sshd"\]/);
});
