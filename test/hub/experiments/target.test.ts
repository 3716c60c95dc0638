// Which hosts a target selects: label matchers as Kubernetes' selectors read them (absent labels included), kind and
// host ids, every part given having to match.
import t from 'tap';
import { parseExperimentSpec, type ExperimentSpec, type LabelMatcher } from '../../../hub/experiments/spec.js';
import { matchesLabel, matchesTarget, type TargetHost } from '../../../hub/experiments/target.js';

/** A target as a definition writes it, normalized by the spec parser. */
const target = (written: Record<string, unknown>): ExperimentSpec['target'] =>
  parseExperimentSpec({ name: 'exp', baseline: { pipeline: 'a' }, candidate: { pipeline: 'b' }, target: written }, 'definition').target;
const matcher = (text: string): LabelMatcher => target({ labels: [text] }).labels![0]!;

const host = (hostId: string, labels: Record<string, string> = {}, hostKind: TargetHost['hostKind'] = 'vm'): TargetHost => ({ hostId, hostKind, labels });

t.test('each operator on a host with the label and on one without it', async (t) => {
  const prod = { env: 'prod', team: 'a', zone: 'x' };
  const dev = { env: 'dev', team: 'c', zone: 'y' };
  const none = {};
  const cases: [text: string, prod: boolean, dev: boolean, absent: boolean][] = [
    ['env=prod', true, false, false],
    ['env!=prod', false, true, true],
    ['team in (a, b)', true, false, false],
    ['team notin (a, b)', false, true, true],
    ['zone notin (x)', false, true, true],
    ['zone in (y)', false, true, false],
  ];
  for (const [text, onProd, onDev, onAbsent] of cases) {
    const m = matcher(text);
    t.equal(matchesLabel(m, prod), onProd, `${text} on ${JSON.stringify(prod)}`);
    t.equal(matchesLabel(m, dev), onDev, `${text} on ${JSON.stringify(dev)}`);
    t.equal(matchesLabel(m, none), onAbsent, `${text} on a host without the label`);
  }
});

t.test('an empty value is a value, not an absent label', async (t) => {
  t.ok(matchesLabel(matcher('env='), { env: '' }));
  t.notOk(matchesLabel(matcher('env='), {}));
  t.notOk(matchesLabel(matcher('env!='), { env: '' }));
  t.ok(matchesLabel(matcher('env!='), {}));
});

t.test("labels named like Object's own properties are absent unless the host has them", async (t) => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    t.notOk(matchesLabel({ name, op: 'in', values: ['x'] }, {}), `${name} in (x)`);
    t.notOk(matchesLabel({ name, op: '=', values: ['[object Object]'] }, {}), `${name}=...`);
    t.ok(matchesLabel({ name, op: 'notin', values: ['x'] }, {}), `${name} notin (x)`);
    t.ok(matchesLabel({ name, op: '!=', values: ['x'] }, {}), `${name} != x`);
  }
  const labels = Object.fromEntries([['constructor', 'x']]);
  t.ok(matchesLabel({ name: 'constructor', op: '=', values: ['x'] }, labels));
});

t.test('label values are compared exactly (case, whitespace)', async (t) => {
  t.notOk(matchesLabel(matcher('env=prod'), { env: 'Prod' }));
  t.notOk(matchesLabel(matcher('env=prod'), { env: 'prod ' }));
  t.notOk(matchesLabel(matcher('team in (a, b)'), { team: 'a, b' }));
  t.notOk(matchesLabel(matcher('env=prod'), { ENV: 'prod' }), 'names too');
});

t.test('an empty target selects every host', async (t) => {
  const empty = target({});
  t.ok(matchesTarget(empty, host('h1')));
  t.ok(matchesTarget(empty, host('h2', { env: 'prod' }, 'k8s-node')));
  t.ok(matchesTarget({ labels: [] }, host('h3')), 'an empty matcher list too');
});

t.test('kind', async (t) => {
  const nodes = target({ kind: 'k8s-node' });
  t.ok(matchesTarget(nodes, host('n1', {}, 'k8s-node')));
  t.notOk(matchesTarget(nodes, host('v1', {}, 'vm')));
  t.ok(matchesTarget(target({ kind: 'vm' }), host('v1', {}, 'vm')));
});

t.test('host ids', async (t) => {
  const listed = target({ hosts: ['h1', 'h3'] });
  t.ok(matchesTarget(listed, host('h1')));
  t.notOk(matchesTarget(listed, host('h2')));
  t.ok(matchesTarget(listed, host('h3', {}, 'k8s-node')));
  t.notOk(matchesTarget(listed, host('H1')), 'exactly');
});

t.test('every part given must match; every label matcher too', async (t) => {
  const all = target({ kind: 'vm', hosts: ['h1', 'h2', 'h3'], labels: ['env=prod', 'tier!=db', 'team in (a, b)', 'zone notin (x)'] });
  t.ok(matchesTarget(all, host('h1', { env: 'prod', team: 'a' })), 'absent tier and zone match != and notin');
  t.ok(matchesTarget(all, host('h2', { env: 'prod', team: 'b', tier: 'web', zone: 'y' })));
  t.notOk(matchesTarget(all, host('h1', { env: 'prod', team: 'a' }, 'k8s-node')), 'wrong kind');
  t.notOk(matchesTarget(all, host('h9', { env: 'prod', team: 'a' })), 'not a listed host');
  t.notOk(matchesTarget(all, host('h1', { env: 'prod', team: 'a', tier: 'db' })), 'tier=db');
  t.notOk(matchesTarget(all, host('h1', { env: 'prod', team: 'a', zone: 'x' })), 'zone=x');
  t.notOk(matchesTarget(all, host('h1', { env: 'prod' })), 'absent team does not match in');
  t.notOk(matchesTarget(all, host('h1', { team: 'a' })), 'absent env does not match =');

  const fleet = [host('h1', { env: 'prod', team: 'a' }), host('h2', { env: 'dev', team: 'a' }), host('h3', { env: 'prod', team: 'a', tier: 'db' }), host('h4', { env: 'prod', team: 'a' }), host('h1', { env: 'prod', team: 'a' }, 'k8s-node')];
  t.strictSame(
    fleet.filter((h) => matchesTarget(all, h)).map((h) => `${h.hostId}/${h.hostKind}`),
    ['h1/vm'],
  );
});
