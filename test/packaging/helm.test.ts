// The Helm chart: helm lint, every rendering validated offline against the Kubernetes API's own schemas
// (strict: unknown fields are errors), and the objects carrying what the agent and hub need.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { helmBinary, KUBERNETES_VERSION, kubernetesSpecDir } from '../../packaging/helm/tools.js';
import { ManifestValidator, specFileFor } from '../../packaging/helm/k8s-schema.js';
import { resolveConfig } from '../../agent/config/load.js';
import { BUILTIN_VARIANTS } from '../../agent/config/schema.js';
import { resolveHubConfig } from '../../hub/config.js';
import { chooseStore, STORE_ENV } from '../../hub/store/store-choice.js';

const CHART = fileURLToPath(new URL('../../packaging/helm/phoenix', import.meta.url));
const PIPELINES = fileURLToPath(new URL('../../pipelines', import.meta.url));
const TOKEN = 'helm-test-token-0123456789';
/** The hub on PostgreSQL: the URL is in this Secret (made by the operator, not the chart). */
const STORE = 'hub.store.existingSecret=phoenix-db';
const REPLICAS = [`token.value=${TOKEN}`, STORE, 'hub.replicas=3', 'hub.access.adminTokenSecret=phoenix-admin'];

const helm = helmBinary();
const validator = new ManifestValidator(kubernetesSpecDir());

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const templateArgs = (chart: string, sets: string[]) => ['template', 'phx', chart, '--namespace', 'observability', '--kube-version', KUBERNETES_VERSION, ...sets.flatMap((s) => ['--set', s])];

function render(...sets: string[]): { code: number | null; docs: Doc[]; stderr: string } {
  const r = spawnSync(helm, templateArgs(CHART, sets), { encoding: 'utf8' });
  const docs = r.status === 0 ? parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc).filter((d) => d !== null) : [];
  return { code: r.status, docs, stderr: r.stderr };
}
const find = (docs: Doc[], kind: string, suffix: string) => docs.find((d) => d.kind === kind && String(d.metadata.name).endsWith(suffix))!;
/** Whether a matchLabels selector selects pods with these labels. */
const selects = (matchLabels: Record<string, string>, labels: Record<string, string>) => Object.entries(matchLabels).every(([k, v]) => labels[k] === v);

/** NOTES.txt as `helm install` would print it: `helm template` leaves NOTES out, so a copy of the chart renders it into a document. */
function renderNotes(...sets: string[]): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'phx-helm-notes-'));
  try {
    const chart = path.join(dir, 'phoenix');
    cpSync(CHART, chart, { recursive: true });
    cpSync(path.join(chart, 'templates', 'NOTES.txt'), path.join(chart, 'notes.txt'));
    writeFileSync(path.join(chart, 'templates', 'zz-notes.yaml'), 'notes: {{ tpl (.Files.Get "notes.txt") . | toJson }}\n');
    const r = spawnSync(helm, [...templateArgs(chart, sets), '--show-only', 'templates/zz-notes.yaml'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return (parse(r.stdout) as { notes: string }).notes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('helm lint --strict: clean', async (t) => {
  for (const sets of [[`token.value=${TOKEN}`], REPLICAS]) {
    const r = spawnSync(helm, ['lint', '--strict', '--kube-version', KUBERNETES_VERSION, CHART, ...sets.flatMap((s) => ['--set', s])], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stdout + r.stderr);
    t.notMatch(r.stdout, /\[(WARNING|ERROR)\]/, sets.join(' '));
    t.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

t.test('every rendering is valid against the Kubernetes API schemas', async (t) => {
  const variants: string[][] = [
    [`token.value=${TOKEN}`],
    ['token.existingSecret=phoenix-token', 'hub.enabled=false', 'hub.externalUrl=wss://hub.example:8080/ws/agent'],
    [`token.value=${TOKEN}`, 'agent.stateHostPath=/var/lib/phoenix-agent', 'agent.variants={baseline,mine}', 'agent.extraPipelines.mine=receivers: {}', 'hub.persistence.storageClassName=fast', 'hub.service.type=LoadBalancer'],
    [`token.value=${TOKEN}`, STORE],
    [...REPLICAS, 'hub.store.secretKey=dsn'],
  ];
  for (const sets of variants) {
    const r = render(...sets);
    t.equal(r.code, 0, r.stderr);
    t.ok(r.docs.length >= 2, `${sets.join(' ')}: ${r.docs.map((d) => d.kind).join(', ')}`);
    t.same(validator.validate(r.docs), [], `${sets.join(' ')}: no schema problem`);
  }
});

t.test('the validator is a real check: a misspelt field, a wrong type, a missing required field', async (t) => {
  const { docs } = render(`token.value=${TOKEN}`);
  const ds = structuredClone(find(docs, 'DaemonSet', '-agent'));
  ds.spec.template.spec.hostPid = true;
  ds.spec.template.spec.containers[0].ports[0].containerPort = 'health';
  delete ds.spec.selector;
  const [problem] = validator.validate([ds]);
  t.equal(problem?.object, 'DaemonSet/phx-phoenix-agent');
  t.ok(problem?.problems.some((p) => p.includes("'hostPid'")), 'unknown field named');
  t.ok(problem?.problems.some((p) => p.includes('/containerPort') && p.includes('integer')), 'wrong type named');
  t.ok(problem?.problems.some((p) => p.includes("'selector'")), 'missing required field named');
  t.same(validator.validate([{ apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: { name: 'x' } }]), [{ object: 'Deploymnet/x', problems: ["no kind 'Deploymnet' in apps/v1"] }]);
  t.equal(specFileFor('v1'), 'api__v1_openapi.json');
  t.equal(specFileFor('apps/v1'), 'apis__apps__v1_openapi.json');
});

t.test('the agent DaemonSet: host processes, node identity, every node, limits, locked down, probes', async (t) => {
  const { docs } = render(`token.value=${TOKEN}`);
  const pod = find(docs, 'DaemonSet', '-agent').spec.template.spec;
  const agent = pod.containers[0];
  t.equal(pod.hostPID, true, 'hostPID');
  t.same(pod.tolerations, [{ operator: 'Exists' }], 'runs on every node, tainted ones too');
  const proc = pod.volumes.find((v: Doc) => v.name === 'hostproc');
  t.same(proc.hostPath, { path: '/proc', type: 'Directory' });
  t.same(agent.volumeMounts.find((m: Doc) => m.name === 'hostproc'), { name: 'hostproc', mountPath: '/hostfs/proc', readOnly: true }, "the host's /proc, read-only");
  t.same(agent.env.find((e: Doc) => e.name === 'PHOENIX_HOST_ID').valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } }, 'host id = node name');
  t.same(agent.env.find((e: Doc) => e.name === 'PHOENIX_HUB_TOKEN').valueFrom, { secretKeyRef: { name: 'phx-phoenix-token', key: 'token' } });
  // agent 50m/96Mi + 2 collectors × 50m/96Mi; limits 200m/160Mi + 2 × 250m/256Mi.
  t.same(agent.resources, { requests: { cpu: '150m', memory: '288Mi' }, limits: { cpu: '700m', memory: '672Mi' } }, 'agent + both collectors');
  t.match(agent.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['DAC_READ_SEARCH', 'SYS_PTRACE'] } });
  t.same([agent.livenessProbe.httpGet, agent.readinessProbe.httpGet], [{ path: '/healthz', port: 'health' }, { path: '/readyz', port: 'health' }]);
});

t.test('the agent config the chart renders is one the agent accepts, with the chart pipelines identical to pipelines/', async (t) => {
  const { docs } = render(`token.value=${TOKEN}`, 'agent.labels.cluster=prod-eu');
  const cm = find(docs, 'ConfigMap', '-agent');
  const env = { PHOENIX_HOST_ID: 'node-1', PHOENIX_HUB_TOKEN: TOKEN, PHOENIX_PIPELINES_DIR: '/etc/phoenix/pipelines' };
  t.same(find(docs, 'DaemonSet', '-agent').spec.template.spec.containers[0].env.find((e: Doc) => e.name === 'PHOENIX_PIPELINES_DIR'), { name: 'PHOENIX_PIPELINES_DIR', value: '/etc/phoenix/pipelines' });
  const config = resolveConfig(parse(cm.data['agent.yaml']), 'agent.yaml', '/etc/phoenix', { env });
  t.match(config, { host: { id: 'node-1', kind: 'k8s-node', labels: { cluster: 'prod-eu' } }, pipeline: { rootPath: '/hostfs' }, health: { host: '0.0.0.0', port: 19095 } });
  t.equal(config.hub?.url, 'ws://phx-phoenix-hub.observability.svc:8080/ws/agent');
  t.same(config.experiment.variants.map((v) => [v.name, v.templatePath]), [['baseline', '/etc/phoenix/pipelines/baseline.yaml'], ['optimized-a', '/etc/phoenix/pipelines/optimized-a.yaml']], 'built-in variants read from the ConfigMap');
  for (const name of BUILTIN_VARIANTS) {
    t.equal(cm.data[`pipeline-${name}.yaml`], readFileSync(path.join(PIPELINES, `${name}.yaml`), 'utf8'), `${name}: the chart carries pipelines/${name}.yaml as is`);
  }
  const carried = Object.keys(cm.data).filter((key) => key.startsWith('pipeline-')).map((key) => key.slice('pipeline-'.length));
  t.same(carried.sort(), readdirSync(PIPELINES).sort(), 'every template in pipelines/, and nothing else');
});

t.test('the hub: one writer on its volume, token from the Secret, non-root, probes', async (t) => {
  const { docs } = render(`token.value=${TOKEN}`);
  const deploy = find(docs, 'Deployment', '-hub');
  t.match(deploy.spec, { replicas: 1, strategy: { type: 'Recreate' } });
  t.notOk(deploy.spec.strategy.rollingUpdate, 'Recreate: the old pod lets go of the ReadWriteOnce volume before the new one mounts it');
  const pod = deploy.spec.template.spec;
  t.match(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532 });
  t.match(pod.containers[0].securityContext, { readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  t.same([pod.containers[0].livenessProbe.httpGet, pod.containers[0].readinessProbe.httpGet], [{ path: '/healthz', port: 'http' }, { path: '/readyz', port: 'http' }]);
  const pvc = find(docs, 'PersistentVolumeClaim', '-hub');
  t.ok(pvc, 'a volume for the store');
  t.same(pod.volumes.find((v: Doc) => v.name === 'data'), { name: 'data', persistentVolumeClaim: { claimName: pvc.metadata.name } }, 'the data dir is that volume');
  t.notOk(pod.containers[0].env, `no ${STORE_ENV}: the embedded store`);
  t.notOk(docs.find((d) => d.kind === 'PodDisruptionBudget'), 'one replica: no disruption budget');
  t.equal(find(docs, 'Service', '-hub').spec.ports[0].port, 8080);
  t.equal(find(docs, 'Secret', '-token').stringData.token, TOKEN);
});

t.test('the hub on PostgreSQL: the URL from the Secret only, no store volume, a rolling update', async (t) => {
  const { docs, code, stderr } = render(`token.value=${TOKEN}`, STORE);
  t.equal(code, 0, stderr);
  const deploy = find(docs, 'Deployment', '-hub');
  t.same(deploy.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }, 'a new pod is ready before an old one goes');
  t.equal(deploy.spec.replicas, 1);
  const hub = deploy.spec.template.spec.containers[0];
  t.same(hub.env, [{ name: STORE_ENV, valueFrom: { secretKeyRef: { name: 'phoenix-db', key: 'url' } } }]);
  t.same(hub.readinessProbe.httpGet, { path: '/readyz', port: 'http' }, 'the rolling update waits for a ready hub');
  t.notOk(hub.args.includes('--store'), 'not in the args (the process list)');
  t.same(docs.filter((d) => d.kind === 'PersistentVolumeClaim'), [], 'no volume claim');
  t.same(deploy.spec.template.spec.volumes.find((v: Doc) => v.name === 'data'), { name: 'data', emptyDir: { sizeLimit: '16Mi' } }, 'the data dir holds no store');
  // The hub's own store choice, with the Secret's value in its environment and the rendered hub.yaml: one place, PostgreSQL.
  const config = resolveHubConfig(parse(find(docs, 'ConfigMap', '-hub').data['hub.yaml']) as Record<string, unknown>, 'hub.yaml', {});
  t.equal(config.store, null, 'hub.yaml names no store (a second place would be refused)');
  const choice = chooseStore({ env: { [STORE_ENV]: 'postgres://phoenix:s3cret@db.example:5432/phoenix' }, config: config.store, configFile: '/etc/phoenix/hub-config/hub.yaml' });
  t.match(choice, { source: `$${STORE_ENV}`, location: { display: /@db\.example:5432\/phoenix$/ } });
  t.same(docs.filter((d) => d.kind === 'PodDisruptionBudget'), [], 'one replica: no disruption budget');

  const key = render(`token.value=${TOKEN}`, STORE, 'hub.store.secretKey=dsn');
  t.same(find(key.docs, 'Deployment', '-hub').spec.template.spec.containers[0].env[0].valueFrom, { secretKeyRef: { name: 'phoenix-db', key: 'dsn' } }, 'the Secret\'s key as given');
});

t.test('several hub replicas: on PostgreSQL with the admin token from a Secret, with a disruption budget for the hub pods only', async (t) => {
  const { docs, code, stderr } = render(...REPLICAS);
  t.equal(code, 0, stderr);
  t.same(validator.validate(docs), [], 'valid against the Kubernetes API schemas');
  const deploy = find(docs, 'Deployment', '-hub');
  t.match(deploy.spec, { replicas: 3, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } });
  t.equal(deploy.spec.template.spec.containers[0].args[deploy.spec.template.spec.containers[0].args.indexOf('--admin-token-file') + 1], '/etc/phoenix/admin/token');
  const budgets = docs.filter((d) => d.kind === 'PodDisruptionBudget');
  t.equal(budgets.length, 1);
  const pdb = budgets[0]!;
  t.equal(pdb.apiVersion, 'policy/v1');
  t.same(pdb.spec.maxUnavailable, 1, 'one hub at a time');
  t.notOk(pdb.spec.minAvailable);
  const hubPods = deploy.spec.template.metadata.labels;
  const agentPods = find(docs, 'DaemonSet', '-agent').spec.template.metadata.labels;
  t.ok(selects(pdb.spec.selector.matchLabels, hubPods), 'selects the hub pods');
  t.notOk(selects(pdb.spec.selector.matchLabels, agentPods), 'not the agents');
  t.ok(selects(find(docs, 'Service', '-hub').spec.selector, hubPods), 'the Service reaches every replica');
  t.same(docs.filter((d) => d.kind === 'PersistentVolumeClaim'), [], 'no volume claim');
  // The URL is the chart's to pass on, never to hold: no ConfigMap names a store.
  for (const cm of docs.filter((d) => d.kind === 'ConfigMap')) {
    const text = JSON.stringify(cm.data);
    t.notMatch(text, /postgres(ql)?:\/\/|phoenix-db|PHOENIX_HUB_STORE/, `${cm.metadata.name}: no store URL, Secret or variable`);
    t.notMatch(text, /\nstore:/, `${cm.metadata.name}: no store: key`);
  }
});

t.test('NOTES name the store in use and how to make tokens with it', async (t) => {
  const embedded = renderNotes(`token.value=${TOKEN}`);
  t.match(embedded, /The hub's store:\n\s+embedded \(SQLite on the PersistentVolumeClaim phx-phoenix-hub\)/);
  t.match(embedded, /token create --name NAME/);
  const one = renderNotes(`token.value=${TOKEN}`, STORE);
  t.match(one, /PostgreSQL, its URL from Secret phoenix-db \(key url\); replicas: 1/);
  t.match(one, /emptyDir: copy the token now/, 'the written admin token does not outlive the pod');
  t.notMatch(one, /token create/, 'the token command would write to an SQLite file no hub reads');
  t.match(one, /\/api\/v1\/tokens/);
  const many = renderNotes(...REPLICAS);
  t.match(many, /replicas: 3/);
  t.match(many, /get secret phoenix-admin/);
});

t.test('the hub\'s access: a config the hub accepts, the admin token and the OIDC client secret from Secrets', async (t) => {
  const plain = render(`token.value=${TOKEN}`);
  const plainArgs: string[] = find(plain.docs, 'Deployment', '-hub').spec.template.spec.containers[0].args;
  t.notOk(plainArgs.includes('--admin-token-file'), 'no admin Secret: the hub writes its first admin token into its volume');
  const plainConfig = parse(find(plain.docs, 'ConfigMap', '-hub').data['hub.yaml']) as Record<string, unknown>;
  t.same(resolveHubConfig(plainConfig, 'hub.yaml', {}), { sessions: { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 }, oidc: null, store: null }, 'sessions as the values say, no single sign-on, the embedded store');

  const { docs, code, stderr } = render(
    `token.value=${TOKEN}`,
    'hub.access.adminTokenSecret=phoenix-admin',
    'hub.access.oidc.enabled=true',
    'hub.access.oidc.issuer=https://login.example.com/realms/ops',
    'hub.access.oidc.clientId=phoenix',
    'hub.access.oidc.clientSecretSecret=phoenix-oidc',
    'hub.access.oidc.redirectUrl=https://phoenix.example.com/auth/oidc/callback',
    'hub.access.oidc.roles.admin={phoenix-admins}',
    'hub.access.oidc.roles.viewer={ops,sre}',
  );
  t.equal(code, 0, stderr);
  const pod = find(docs, 'Deployment', '-hub').spec.template.spec;
  const args: string[] = pod.containers[0].args;
  t.equal(args[args.indexOf('--admin-token-file') + 1], '/etc/phoenix/admin/token');
  t.equal(args[args.indexOf('--config') + 1], '/etc/phoenix/hub-config/hub.yaml');
  const mounts = Object.fromEntries(pod.containers[0].volumeMounts.map((m: Doc) => [m.name, m.mountPath]));
  const volumes = Object.fromEntries(pod.volumes.map((v: Doc) => [v.name, v.secret?.secretName ?? v.configMap?.name]));
  t.match(mounts, { 'admin-token': '/etc/phoenix/admin', 'oidc-client-secret': '/etc/phoenix/oidc', config: '/etc/phoenix/hub-config' });
  t.match(volumes, { 'admin-token': 'phoenix-admin', 'oidc-client-secret': 'phoenix-oidc', config: 'phx-phoenix-hub' });
  // The hub's own parser reads the rendered hub.yaml, with the client secret at the mounted Secret's path.
  const dir = mkdtempSync(path.join(tmpdir(), 'phx-helm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const secretFile = path.join(dir, 'client-secret');
  writeFileSync(secretFile, 'helm-client-secret\n');
  const rendered = parse(find(docs, 'ConfigMap', '-hub').data['hub.yaml']) as { oidc: Record<string, unknown> };
  t.equal(rendered.oidc.clientSecretFile, '/etc/phoenix/oidc/client-secret', 'the secret is read from the mounted Secret');
  const config = resolveHubConfig({ ...rendered, oidc: { ...rendered.oidc, clientSecretFile: secretFile } }, 'hub.yaml', {});
  t.match(config.oidc, {
    issuer: 'https://login.example.com/realms/ops', clientId: 'phoenix', clientSecret: 'helm-client-secret',
    redirectUrl: 'https://phoenix.example.com/auth/oidc/callback', roleClaim: 'groups', roles: { admin: ['phoenix-admins'], viewer: ['ops', 'sre'] },
  });
  t.same(validator.validate(docs), [], 'valid against the Kubernetes API schemas');

  t.match(render(`token.value=${TOKEN}`, 'hub.access.oidc.enabled=true').stderr, /hub\.access\.oidc\.enabled needs issuer, clientId and clientSecretSecret/);
  t.match(
    render(`token.value=${TOKEN}`, 'hub.access.oidc.enabled=true', 'hub.access.oidc.issuer=https://x.example', 'hub.access.oidc.clientId=c', 'hub.access.oidc.clientSecretSecret=s').stderr,
    /hub\.access\.oidc\.roles must map at least one claim value/,
  );
});

t.test('bad values fail the rendering with a message', async (t) => {
  t.match(render().stderr, /set token\.value .* or token\.existingSecret/);
  t.match(render('token.value=short').stderr, /token\.value must be at least 16 characters/);
  t.match(render(`token.value=${TOKEN}`, 'agent.variants={baseline,fancy}').stderr, /agent\.variants: no pipeline named "fancy"/);
  const sqliteReplicas = render(`token.value=${TOKEN}`, 'hub.replicas=2');
  t.not(sqliteReplicas.code, 0);
  t.match(sqliteReplicas.stderr, /hub\.replicas=2 needs an external store: the embedded store is a SQLite file on one ReadWriteOnce volume, which only one hub may open\. Set hub\.store\.existingSecret/);
  const noAdmin = render(`token.value=${TOKEN}`, STORE, 'hub.replicas=2');
  t.not(noAdmin.code, 0);
  t.match(noAdmin.stderr, /hub\.replicas=2 needs hub\.access\.adminTokenSecret \(a Secret with key 'token'\)/);
  t.match(render(`token.value=${TOKEN}`, 'hub.replicas=0').stderr, /hub\.replicas must be 1 or more, got 0/);
  t.match(render(`token.value=${TOKEN}`, STORE, 'hub.store.secretKey=').stderr, /hub\.store\.secretKey must name the key/);
  const own = render(`token.value=${TOKEN}`, 'agent.variants={baseline,fancy}', 'agent.extraPipelines.fancy=receivers: {}');
  t.match(find(own.docs, 'ConfigMap', '-agent').data, { 'agent.yaml': /- name: fancy\n\s+pipeline: \/etc\/phoenix\/pipelines\/fancy\.yaml/, 'pipeline-fancy.yaml': 'receivers: {}' }, 'your own pipeline, by name');
});
