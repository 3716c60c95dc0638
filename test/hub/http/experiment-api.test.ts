// The experiments and pipeline catalog API on a real hub over HTTP, with bare protocol-v2 agents on real sockets:
// each route's success and body, 401/403 by role, the 400s naming the field, 404s, the 409s of the lifecycle and of
// overlapping targets, what reaches the agents (assign, withdraw), and every write in the audit trail.
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import type { Role } from '../../../hub/access/roles.js';
import type { ExperimentListResponse, ExperimentResponse, PipelineListResponse, PipelineResponse } from '../../../hub/http/experiment-types.js';
import type { FleetResponse } from '../../../hub/http/types.js';
import type { Hub } from '../../../hub/server.js';
import { MAX_TEMPLATE_BYTES } from '../../../protocol/assignment.js';
import { AGENT_TOKEN, call, startAccessHub, type Answer } from '../../helpers/access-hub.js';
import { builtinTemplate } from '../../helpers/assignment.js';
import { apiToken, bearer } from '../../helpers/hub-api.js';
import { waitFor } from '../../helpers/process.js';
import { helloFor, openSocket, type TestSocket } from '../../helpers/ws-client.js';

const TEMPLATE = builtinTemplate('optimized-b');
const hex = (text: string) => createHash('sha256').update(text).digest('hex');
const as = async (hub: Hub, role: Role) => bearer(await apiToken(hub, role));
/** A definition on the built-in baseline and the uploaded 'trimmed', on the hosts `target` picks. */
const definition = (name: string, target: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  name, baseline: { pipeline: 'baseline' }, candidate: { pipeline: 'trimmed' }, target, ...extra,
});

/** A bare agent speaking protocol v2 that takes experiments; connected (its hello heard) when this resolves. */
async function connectAgent(t: Test, hub: Hub, name: string, labels: Record<string, string>): Promise<TestSocket> {
  const socket = await openSocket(hub.agentUrl, AGENT_TOKEN);
  t.teardown(() => socket.ws.close());
  socket.ws.send(JSON.stringify({ ...helloFor(`agent-${name}`, `host-${name}`, labels), v: 2, experiments: { accepts: true, reason: null, current: null } }));
  await waitFor(`agent-${name} said hello`, () => hub.connections.has(`agent-${name}`));
  return socket;
}

/** A body sent as it is (not JSON-encoded here), with its content type. */
async function sendRaw(hub: Hub, method: string, target: string, headers: Record<string, string>, body: string, type = 'application/json'): Promise<Answer> {
  const res = await fetch(`${hub.url}${target}`, { method, headers: { 'content-type': type, ...headers }, body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** Expects a refusal: its status, the API's error kind for it, and a message matching `message`. */
function refused(t: Test, answer: Answer, status: number, message: RegExp, what: string): void {
  const kind = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden', 404: 'not_found', 409: 'conflict', 413: 'payload_too_large', 415: 'unsupported_media_type' }[status];
  t.equal(answer.status, status, `${what}: ${status} (${JSON.stringify(answer.body)})`);
  t.match(answer.body, { error: kind, message }, `${what}: the message`);
}

async function upload(t: Test, hub: Hub, name: string, content: string, status: number): Promise<PipelineResponse> {
  const answer = await call(hub, 'POST', '/api/v1/pipelines', await as(hub, 'experimenter'), { name, content });
  t.equal(answer.status, status, `upload ${name}: ${status} (${JSON.stringify(answer.body).slice(0, 300)})`);
  return answer.body as unknown as PipelineResponse;
}

t.test('pipelines: list, upload, show and delete, with their statuses and bodies', async (t) => {
  const { hub } = await startAccessHub(t);
  const experimenter = await as(hub, 'experimenter');

  const listed = await call(hub, 'GET', '/api/v1/pipelines', await as(hub, 'viewer'));
  t.equal(listed.status, 200);
  t.same((listed.body as unknown as PipelineListResponse).pipelines, ['baseline', 'optimized-a', 'optimized-b', 'optimized-c'].map((name) => ({
    name, sha256: hex(builtinTemplate(name)), builtin: true, description: `built-in: ${name}`, uploadedBy: 'phoenix', uploadedAt: null, usedBy: [],
  })), 'the built-ins, each with the sha256 of its file, no content in the list');

  const before = Date.now();
  const made = await call(hub, 'POST', '/api/v1/pipelines', experimenter, { name: 'trimmed', content: TEMPLATE, description: 'a copy of optimized-b' });
  t.equal(made.status, 201);
  const first = (made.body as unknown as PipelineResponse).pipeline;
  t.match(made.body, {
    created: true,
    pipeline: { name: 'trimmed', sha256: hex(TEMPLATE), builtin: false, description: 'a copy of optimized-b', uploadedBy: 'test-experimenter', usedBy: [], content: TEMPLATE },
  });
  t.ok(Date.parse(first.uploadedAt!) >= before - 1000, `uploadedAt is the upload's time (${first.uploadedAt})`);
  const again = await upload(t, hub, 'trimmed', TEMPLATE, 200);
  t.match(again, { created: false, pipeline: { sha256: first.sha256, description: 'a copy of optimized-b', uploadedAt: first.uploadedAt } }, 'the same text: the first upload');
  const tuned = `${TEMPLATE}# tuned\n`;
  const second = (await upload(t, hub, 'trimmed', tuned, 201)).pipeline;
  t.equal(second.sha256, hex(tuned), 'a changed text: a new version');

  const shown = await call(hub, 'GET', '/api/v1/pipelines/trimmed', await as(hub, 'viewer'));
  t.equal(shown.status, 200);
  const body = shown.body as unknown as PipelineResponse;
  t.match(body.pipeline, { sha256: second.sha256, content: tuned }, 'a bare name: the newest version, with its text');
  t.same(body.versions!.map((v) => v.sha256), [second.sha256, first.sha256], 'every version, newest first');
  t.notOk('content' in body.versions![0]!, 'the versions without their text');
  const one = await call(hub, 'GET', `/api/v1/pipelines/trimmed?sha256=${first.sha256}`, await as(hub, 'viewer'));
  t.match(one.body, { pipeline: { sha256: first.sha256, content: TEMPLATE } }, 'one version by ?sha256=');
  const builtin = await call(hub, 'GET', '/api/v1/pipelines/baseline', await as(hub, 'viewer'));
  t.match(builtin.body, { pipeline: { name: 'baseline', builtin: true, content: builtinTemplate('baseline') }, versions: [{ name: 'baseline' }] });

  const deleted = await call(hub, 'DELETE', `/api/v1/pipelines/trimmed?sha256=${second.sha256}`, experimenter);
  t.same([deleted.status, deleted.body], [200, { deleted: 1 }], 'one version');
  refused(t, await call(hub, 'GET', `/api/v1/pipelines/trimmed?sha256=${second.sha256}`, await as(hub, 'viewer')), 404, new RegExp(`no template 'trimmed@sha256:${second.sha256}'`), 'the deleted version');
  t.match((await call(hub, 'GET', '/api/v1/pipelines/trimmed', await as(hub, 'viewer'))).body, { pipeline: { sha256: first.sha256 } }, 'the other is now the newest');
  await upload(t, hub, 'spare', TEMPLATE, 201);
  t.same((await call(hub, 'DELETE', '/api/v1/pipelines/spare', experimenter)).body, { deleted: 1 }, 'every version of a name');

  const unknownSha = 'f'.repeat(64);
  const refusals: [string, string, number, RegExp][] = [
    ['GET', '/api/v1/pipelines/nothing', 404, /^name: no template 'nothing' in the catalog/],
    ['GET', `/api/v1/pipelines/trimmed?sha256=${unknownSha}`, 404, new RegExp(`no template 'trimmed@sha256:${unknownSha}'`)],
    ['GET', `/api/v1/pipelines/baseline?sha256=${unknownSha}`, 404, /the built-in 'baseline' is version [0-9a-f]{64}, not f{64}/],
    ['GET', '/api/v1/pipelines/trimmed?sha256=ABC', 400, /^sha256: must be 64 lowercase hex digits, got 'ABC'$/],
    ['DELETE', '/api/v1/pipelines/trimmed?sha256=xyz', 400, /^sha256: must be 64 lowercase hex digits, got 'xyz'$/],
    ['GET', '/api/v1/pipelines/trimmed?version=1', 400, /^unknown query parameter 'version'; this endpoint takes 'sha256'$/],
    ['GET', '/api/v1/pipelines?all=1', 400, /^unknown query parameter 'all'; this endpoint takes none$/],
    ['GET', '/api/v1/pipelines/Not%20A%20Name', 400, /^name: 'Not A Name' is not a template name/],
    ['DELETE', '/api/v1/pipelines/nothing', 404, /^no template 'nothing' in the catalog$/],
    ['DELETE', `/api/v1/pipelines/trimmed?sha256=${unknownSha}`, 404, new RegExp(`^no template 'trimmed' version ${unknownSha} in the catalog$`)],
    ['DELETE', '/api/v1/pipelines/optimized-a', 409, /^'optimized-a' is a built-in template and cannot be deleted$/],
  ];
  for (const [method, path, status, message] of refusals) refused(t, await call(hub, method, path, method === 'GET' ? await as(hub, 'viewer') : experimenter), status, message, `${method} ${path}`);
});

t.test('POST /api/v1/pipelines refuses a bad body, naming the field or the template line', async (t) => {
  const { hub } = await startAccessHub(t);
  const experimenter = await as(hub, 'experimenter');
  const post = (json: unknown) => call(hub, 'POST', '/api/v1/pipelines', experimenter, json);
  const exporters = TEMPLATE.split('\n').findIndex((l) => l === 'exporters:') + 1;
  const remote = TEMPLATE.replace('endpoint: 127.0.0.1:{{exporter_port}}', 'endpoint: 203.0.113.9:{{exporter_port}}');
  const remoteLine = remote.split('\n').findIndex((l) => l.includes('203.0.113.9')) + 1;
  t.ok(exporters > 0 && remoteLine > exporters, 'the template has its exporters where the edits expect them');

  refused(t, await post({ name: 'mine', content: remote }), 400, new RegExp(`^the template is refused: mine:${remoteLine}: '203\\.0\\.113\\.9:\\d+': an address other than 127\\.0\\.0\\.1`), 'a remote exporter endpoint');
  refused(t, await post({ name: 'mine', content: TEMPLATE.replace('exporters:\n', 'exporters:\n  otlp:\n    endpoint: 127.0.0.1:4317\n') }), 400, new RegExp(`mine:${exporters + 1}: exporter 'otlp' is not allowed`), 'an otlp exporter');
  refused(t, await post({ name: 'mine', content: TEMPLATE.replace('{{collection_interval}}', '10s') }), 400, /^the template is refused: mine: the template must use \{\{collection_interval\}\}/, 'a missing placeholder');
  refused(t, await post({ name: 'baseline', content: TEMPLATE }), 409, /^name: 'baseline' is a built-in template; choose another name$/, 'a built-in name');
  refused(t, await post({ name: 'My_Pipe', content: TEMPLATE }), 400, /^name: 'My_Pipe' must be 1-63 of a-z 0-9 -/, 'a bad name');
  refused(t, await post({ name: 'a'.repeat(64), content: TEMPLATE }), 400, /^'name' must be a string of 1-63 characters$/, 'a name too long');
  refused(t, await post({ name: 'mine', content: TEMPLATE, owner: 'me' }), 400, /^unknown field 'owner' \(allowed: name, content, description\)$/, 'an unknown field');
  refused(t, await post({ name: 'mine' }), 400, /^the field 'content' is required$/, 'no content');
  refused(t, await post({ name: 'mine', content: 42 }), 400, /^'content' must be a string of 1-262144 characters$/, 'content not a string');
  refused(t, await post({ name: 'mine', content: TEMPLATE, description: false }), 400, /^'description' must be a string of 1-2000 characters$/, 'description not a string');
  refused(t, await post([{ name: 'mine' }]), 400, /^the body must be a JSON object$/, 'an array');
  refused(t, await post({ name: 'mine', content: `${TEMPLATE}#${'x'.repeat(MAX_TEMPLATE_BYTES)}` }), 400, new RegExp(`^'content' must be a string of 1-${MAX_TEMPLATE_BYTES} characters$`), 'a template over its size');
  refused(t, await sendRaw(hub, 'POST', '/api/v1/pipelines', experimenter, '{"name": "mine",'), 400, /^the body is not JSON/, 'bad JSON');
  refused(t, await sendRaw(hub, 'POST', '/api/v1/pipelines', experimenter, 'name: mine', 'application/yaml'), 415, /^the body must be application\/json, got 'application\/yaml'$/, 'not JSON at all');
  // The bound for a write is room for the largest template escaped (2 × 256 KiB + 16 KiB): past it, 413.
  const huge = JSON.stringify({ name: 'mine', content: 'x'.repeat(2 * MAX_TEMPLATE_BYTES + 16 * 1024) });
  refused(t, await sendRaw(hub, 'POST', '/api/v1/pipelines', experimenter, huge), 413, /^the body is \d+ bytes; at most 540672 are read$/, 'a body over the bound');
  refused(t, await call(hub, 'POST', '/api/v1/pipelines?force=1', experimenter, { name: 'mine', content: TEMPLATE }), 400, /^unknown query parameter 'force'/, 'a query parameter');

  const names = ((await call(hub, 'GET', '/api/v1/pipelines', experimenter)).body as unknown as PipelineListResponse).pipelines.map((p) => p.name);
  t.same(names, ['baseline', 'optimized-a', 'optimized-b', 'optimized-c'], 'nothing refused was kept');
});

t.test('experiments: create, show, list, start and stop over the API, as the agents see it', async (t) => {
  const { hub } = await startAccessHub(t);
  const experimenter = await as(hub, 'experimenter');
  const post = (path: string, json: unknown = {}) => call(hub, 'POST', path, experimenter, json);
  const create = async (json: unknown) => {
    const answer = await post('/api/v1/experiments', json);
    t.equal(answer.status, 201, `created (${JSON.stringify(answer.body).slice(0, 300)})`);
    return (answer.body as unknown as ExperimentResponse).experiment;
  };
  await upload(t, hub, 'trimmed', TEMPLATE, 201);

  // No agent has said hello yet: a target, even the empty one (every host), matches no host and is refused.
  refused(t, await post('/api/v1/experiments', { definition: definition('early') }), 400, /^target: it matches none of the hosts this hub knows$/, 'an empty target with no hosts');
  const prod = await connectAgent(t, hub, 'prod', { env: 'prod' });
  const dev = await connectAgent(t, hub, 'dev', { env: 'dev' });
  refused(t, await post('/api/v1/experiments', { definition: definition('qa', { labels: ['env=qa'] }) }), 400, /^target: it matches none of the hosts/, 'a target no known host matches');

  const trial = await create({ definition: definition('trial', { labels: ['env=prod'] }, { description: 'the prod canary' }) });
  t.match(trial, {
    name: 'trial', description: 'the prod canary', state: 'running', verdict: 'pending', target: 'env=prod', createdBy: 'test-experimenter',
    baseline: { pipeline: 'baseline', sha256: hex(builtinTemplate('baseline')) }, candidate: { pipeline: 'trimmed', sha256: hex(TEMPLATE) },
    hosts: 1, waves: { started: 1, total: 1 }, hostList: [{ hostId: 'host-prod', agentId: 'agent-prod', wave: 0, connected: true }],
    definition: { rollout: { canary: { hosts: 1 }, hold: 300_000 }, criteria: { retention: 1 } },
    outcome: null, passed: null,
  });
  t.match(trial.id, /^trial-[0-9a-f]{8}$/);
  t.same(trial.events.map((e) => e.kind).slice(0, 2), ['created', 'started'], 'its events');
  const assigned = await prod.waitForMessage((m) => m.type === 'assign');
  t.match(assigned, { v: 2, assignment: { experimentId: trial.id, revision: 1, variants: [{ sha256: hex(builtinTemplate('baseline')) }, { sha256: hex(TEMPLATE), template: TEMPLATE }] } }, 'the targeted agent got the assignment');

  const shown = await call(hub, 'GET', `/api/v1/experiments/${trial.id}`, await as(hub, 'viewer'));
  t.equal(shown.status, 200);
  t.match(shown.body, { experiment: { id: trial.id, state: 'running', hostList: [{ hostId: 'host-prod' }] } });
  const catalog = ((await call(hub, 'GET', '/api/v1/pipelines', experimenter)).body as unknown as PipelineListResponse).pipelines;
  t.same(catalog.map((p) => [p.name, p.usedBy]), [['baseline', [trial.id]], ['optimized-a', []], ['optimized-b', []], ['optimized-c', []], ['trimmed', [trial.id]]], 'the catalog shows who uses each template');
  refused(t, await call(hub, 'DELETE', '/api/v1/pipelines/trimmed', experimenter), 409, new RegExp(`^'trimmed' is used by experiment ${trial.id}; it cannot be deleted$`), 'deleting a template in use');

  const overlap = new RegExp(`^the target overlaps running experiment '${trial.id}' \\(trial\\) on 1 host: host-prod$`);
  refused(t, await post('/api/v1/experiments', { definition: definition('everywhere') }), 409, overlap, 'a target overlapping a running experiment');
  refused(t, await post('/api/v1/experiments', { definition: definition('named', { hosts: ['host-prod'] }), start: false }), 409, overlap, 'even as a draft');

  // A draft, written as YAML text, on the other host: created, not sent, then started.
  const yaml = 'name: dev-trial\nbaseline: { pipeline: baseline }\ncandidate: { pipeline: trimmed }\ntarget:\n  labels: ["env in (dev, test)"]\nrollout: { hold: 1m }\n';
  const draft = await create({ definition: yaml, start: false });
  t.match(draft, { name: 'dev-trial', state: 'draft', startedAt: null, target: 'env in (dev,test)', hostList: [{ hostId: 'host-dev', wave: null, state: 'pending' }], definition: { rollout: { hold: 60_000 } } });
  const started = await post(`/api/v1/experiments/${draft.id}/start`);
  t.equal(started.status, 200);
  t.match(started.body, { experiment: { id: draft.id, state: 'running', hostList: [{ hostId: 'host-dev', wave: 0 }] } });
  t.match(await dev.waitForMessage((m) => m.type === 'assign'), { assignment: { experimentId: draft.id } }, 'started: the agent got it');
  refused(t, await post(`/api/v1/experiments/${draft.id}/start`), 409, new RegExp(`^experiment '${draft.id}' is running; only a draft can be started$`), 'starting a running experiment');

  const listed = await call(hub, 'GET', '/api/v1/experiments', await as(hub, 'viewer'));
  t.equal(listed.status, 200);
  t.same((listed.body as unknown as ExperimentListResponse).experiments.map((e) => [e.id, e.state]), [[draft.id, 'running'], [trial.id, 'running']], 'newest first');

  const stopped = await post(`/api/v1/experiments/${trial.id}/stop`);
  t.equal(stopped.status, 200);
  t.match(stopped.body, { experiment: { id: trial.id, state: 'stopped', verdict: 'stopped', outcome: { stoppedBy: 'test-experimenter' } } });
  t.match(await prod.waitForMessage((m) => m.type === 'withdraw'), { experimentId: trial.id, reason: 'the experiment was stopped' }, 'stopped: the agent is told to withdraw');
  refused(t, await post(`/api/v1/experiments/${trial.id}/stop`), 409, new RegExp(`^experiment '${trial.id}' is stopped; only a running experiment can be stopped$`), 'stopping a stopped experiment');
  refused(t, await post(`/api/v1/experiments/${trial.id}/start`), 409, /is stopped; only a draft can be started$/, 'starting a stopped experiment');

  // Its host is free again: a draft there, then another running experiment takes it, and the draft cannot start.
  const later = await create({ definition: definition('later', { hosts: ['host-prod'] }), start: false });
  refused(t, await post(`/api/v1/experiments/${later.id}/stop`), 409, new RegExp(`^experiment '${later.id}' is draft; only a running experiment can be stopped$`), 'stopping a draft');
  const sooner = await create({ definition: definition('sooner', { labels: [{ name: 'env', op: '!=', values: ['dev'] }] }) });
  refused(t, await post(`/api/v1/experiments/${later.id}/start`), 409, new RegExp(`overlaps running experiment '${sooner.id}' \\(sooner\\) on 1 host: host-prod$`), 'starting a draft whose host is taken');

  for (const [path, method] of [['/api/v1/experiments/no-such-1234', 'GET'], ['/api/v1/experiments/no-such-1234/start', 'POST'], ['/api/v1/experiments/no-such-1234/stop', 'POST']] as const) {
    refused(t, await call(hub, method, path, experimenter, method === 'POST' ? {} : undefined), 404, /^no experiment 'no-such-1234'$/, `${method} ${path}`);
  }
  refused(t, await call(hub, 'GET', `/api/v1/experiments/${trial.id}?events=all`, experimenter), 400, /^unknown query parameter 'events'/, 'a query parameter on show');
  refused(t, await call(hub, 'GET', '/api/v1/experiments?state=running', experimenter), 400, /^unknown query parameter 'state'/, 'a query parameter on the list');
  refused(t, await post(`/api/v1/experiments/${sooner.id}/stop?now=1`), 400, /^unknown query parameter 'now'/, 'a query parameter on stop');
});

t.test('POST /api/v1/experiments refuses a bad body or definition, naming the field', async (t) => {
  const { hub } = await startAccessHub(t);
  const experimenter = await as(hub, 'experimenter');
  await connectAgent(t, hub, 'one', { env: 'prod' });
  await upload(t, hub, 'trimmed', TEMPLATE, 201);
  const post = (json: unknown) => call(hub, 'POST', '/api/v1/experiments', experimenter, json);
  const cases: [string, unknown, number, RegExp][] = [
    ['rollout.canary 0', { definition: definition('x', {}, { rollout: { canary: 0 } }) }, 400, /^definition: rollout\.canary must be a number of hosts \(1 or more\) or a percentage such as '10%', got 0$/],
    ['criteria.reduction 2', { definition: definition('x', {}, { criteria: { reduction: 2 } }) }, 400, /^definition: criteria\.reduction must be a fraction from 0 to 1 .*, got 2$/],
    ['criteria.topCpuCoverage 9.5', { definition: definition('x', {}, { criteria: { topCpuCoverage: 9.5 } }) }, 400, /^definition: criteria\.topCpuCoverage must be a whole number of processes from 1 to 100, got 9\.5$/],
    ["target.labels 'env~x'", { definition: definition('x', { labels: ['env~x'] }) }, 400, /^definition: target\.labels\.0 must be a matcher such as .*, got 'env~x'$/],
    ['an unknown definition field', { definition: { ...definition('x'), colour: 'red' } }, 400, /^definition: unknown field 'colour'$/],
    ['a bad name', { definition: definition('Trial!') }, 400, /^definition: name must be 1-50 lowercase letters/],
    ['a bad pipeline reference', { definition: { ...definition('x'), candidate: { pipeline: 'Trimmed' } } }, 400, /^definition: candidate\.pipeline must name a pipeline in the catalog/],
    // A well-formed reference to what the catalog does not hold is the definition's fault, the field named.
    ['an unknown baseline pipeline', { definition: { ...definition('x'), baseline: { pipeline: 'nope' } } }, 400, /^definition: baseline\.pipeline: no template 'nope' in the catalog/],
    ['an unknown candidate version', { definition: { ...definition('x'), candidate: { pipeline: `trimmed@sha256:${'0'.repeat(64)}` } } }, 400, /^definition: candidate\.pipeline: no template 'trimmed@sha256:0{64}'/],
    ['YAML that is not a mapping', { definition: '- a\n- b\n' }, 400, /^definition/],
    ['YAML text with a bad field', { definition: 'name: x\nbaseline: { pipeline: baseline }\ncandidate: { pipeline: trimmed }\nrollout: { canary: ten }\n' }, 400, /^definition: rollout\.canary .*got 'ten'$/],
    ['a definition that is a number', { definition: 42 }, 400, /^'definition' must be the experiment as YAML or JSON text, or as an object$/],
    ['an array definition', { definition: [definition('x')] }, 400, /^'definition' must be the experiment as YAML or JSON text/],
    ['start not a boolean', { definition: definition('x'), start: 'yes' }, 400, /^'start' must be true or false$/],
    ['an unknown body field', { definition: definition('x'), dryRun: true }, 400, /^unknown field 'dryRun' \(allowed: definition, start\)$/],
    ['no definition', {}, 400, /^the field 'definition' is required$/],
  ];
  for (const [what, json, status, message] of cases) refused(t, await post(json), status, message, what);
  refused(t, await sendRaw(hub, 'POST', '/api/v1/experiments', experimenter, '{"definition": '), 400, /^the body is not JSON/, 'bad JSON');
  const huge = JSON.stringify({ definition: `name: x\ndescription: ${'x'.repeat(2 * MAX_TEMPLATE_BYTES + 16 * 1024)}\n` });
  refused(t, await sendRaw(hub, 'POST', '/api/v1/experiments', experimenter, huge), 413, /^the body is \d+ bytes; at most 540672 are read$/, 'a body over the bound');
  refused(t, await call(hub, 'POST', '/api/v1/experiments?start=false', experimenter, { definition: definition('x') }), 400, /^unknown query parameter 'start'/, 'a query parameter');
  t.same(((await call(hub, 'GET', '/api/v1/experiments', experimenter)).body as unknown as ExperimentListResponse).experiments, [], 'nothing refused was created');

  // A definition given as JSON text is YAML too.
  const fromJson = await post({ definition: JSON.stringify(definition('as-json')) });
  t.equal(fromJson.status, 201);
  t.match(fromJson.body, { experiment: { name: 'as-json', state: 'running' } });
});

t.test('a target picks the hosts the hub knows: one gone is assigned when it comes back, a version-1 one is refused', async (t) => {
  const { hub } = await startAccessHub(t);
  await upload(t, hub, 'trimmed', TEMPLATE, 201);
  const away = await connectAgent(t, hub, 'away', { env: 'prod' });
  away.ws.close();
  await waitFor('agent-away gone', () => !hub.connections.has('agent-away'));
  const created = await call(hub, 'POST', '/api/v1/experiments', await as(hub, 'experimenter'), { definition: definition('while-away', { labels: ['env=prod'] }) });
  t.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));
  const id = (created.body as unknown as ExperimentResponse).experiment.id;
  t.match(created.body, { experiment: { hosts: 1, hostList: [{ hostId: 'host-away', wave: 0, state: 'pending', connected: false }] } });
  const back = await connectAgent(t, hub, 'away', { env: 'prod' });
  t.match(await back.waitForMessage((m) => m.type === 'assign'), { assignment: { experimentId: id } }, 'back: its hello brings the assignment');

  const old = await openSocket(hub.agentUrl, AGENT_TOKEN);
  t.teardown(() => old.ws.close());
  old.ws.send(JSON.stringify(helloFor('agent-old', 'host-old', { env: 'legacy' })));
  await waitFor('agent-old said hello', () => hub.connections.has('agent-old'));
  const legacy = await call(hub, 'POST', '/api/v1/experiments', await as(hub, 'experimenter'), { definition: definition('legacy', { labels: ['env=legacy'] }) });
  t.equal(legacy.status, 201);
  t.match(legacy.body, { experiment: { hostList: [{ hostId: 'host-old', state: 'refused', message: /version-1 agent/ }] } });

  // The fleet shows which connected agents take experiments ("not manageable" on the page), and why not.
  const declining = await openSocket(hub.agentUrl, AGENT_TOKEN);
  t.teardown(() => declining.ws.close());
  declining.ws.send(JSON.stringify({ ...helloFor('agent-no', 'host-no', {}), v: 2, experiments: { accepts: false, reason: 'hub.acceptExperiments is false', current: null } }));
  await waitFor('agent-no said hello', () => hub.connections.has('agent-no'));
  const fleet = (await call(hub, 'GET', '/api/v1/fleet', await as(hub, 'viewer'))).body as unknown as FleetResponse;
  const experimentsOf = (hostId: string) => fleet.hosts.find((h) => h.hostId === hostId)!.experiments;
  t.strictSame(experimentsOf('host-away'), { manageable: true, reason: null });
  t.strictSame(experimentsOf('host-old'), { manageable: false, reason: 'a version-1 agent: it takes no experiments' });
  t.strictSame(experimentsOf('host-no'), { manageable: false, reason: 'hub.acceptExperiments is false' });
  back.ws.close();
  await waitFor('agent-away gone', () => !hub.connections.has('agent-away'));
  const later = (await call(hub, 'GET', '/api/v1/fleet', await as(hub, 'viewer'))).body as unknown as FleetResponse;
  t.equal(later.hosts.find((h) => h.hostId === 'host-away')!.experiments, null, 'not connected: unknown');
});

t.test("every route: 401 without a token, a viewer reads (200) and is refused its writes (403)", async (t) => {
  const { hub } = await startAccessHub(t);
  await connectAgent(t, hub, 'one', { env: 'prod' });
  await upload(t, hub, 'trimmed', TEMPLATE, 201);
  const created = await call(hub, 'POST', '/api/v1/experiments', await as(hub, 'experimenter'), { definition: definition('trial') });
  const id = (created.body as unknown as ExperimentResponse).experiment.id;
  const routes: [string, string, unknown?][] = [
    ['GET', '/api/v1/pipelines'],
    ['GET', '/api/v1/pipelines/trimmed'],
    ['POST', '/api/v1/pipelines', { name: 'viewer-made', content: TEMPLATE }],
    ['DELETE', '/api/v1/pipelines/trimmed'],
    ['GET', '/api/v1/experiments'],
    ['GET', `/api/v1/experiments/${id}`],
    ['POST', '/api/v1/experiments', { definition: definition('viewer-made') }],
    ['POST', `/api/v1/experiments/${id}/start`, {}],
    ['POST', `/api/v1/experiments/${id}/stop`, {}],
  ];
  for (const [method, path, json] of routes) {
    const what = `${method} ${path}`;
    const anonymous = await call(hub, method, path, {}, json);
    refused(t, anonymous, 401, /./, `${what} without a token`);
    t.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="phoenix"', `${what}: www-authenticate`);
    const viewer = await call(hub, method, path, await as(hub, 'viewer'), json);
    if (method === 'GET') t.equal(viewer.status, 200, `${what} as a viewer`);
    else refused(t, viewer, 403, /has the viewer role.*is needed/, `${what} as a viewer`);
  }
  const after = await call(hub, 'GET', `/api/v1/experiments/${id}`, await as(hub, 'viewer'));
  t.match(after.body, { experiment: { state: 'running' } }, 'the refused stop changed nothing');
  t.same(((await call(hub, 'GET', '/api/v1/pipelines', await as(hub, 'viewer'))).body as unknown as PipelineListResponse).pipelines.map((p) => p.name), ['baseline', 'optimized-a', 'optimized-b', 'optimized-c', 'trimmed'], 'nor did the refused upload and delete');
});

t.test('every write is in the audit trail: who, what, on which target, with what outcome', async (t) => {
  const { hub } = await startAccessHub(t);
  const experimenter = await as(hub, 'experimenter');
  await connectAgent(t, hub, 'one', { env: 'prod' });
  const first = (await upload(t, hub, 'trimmed', TEMPLATE, 201)).pipeline;
  await upload(t, hub, 'trimmed', TEMPLATE, 200);
  await call(hub, 'POST', '/api/v1/pipelines', experimenter, { name: 'remote', content: TEMPLATE.replace('127.0.0.1:{{exporter_port}}', '198.51.100.7:{{exporter_port}}') });
  const spare = (await upload(t, hub, 'spare', TEMPLATE, 201)).pipeline;
  await call(hub, 'DELETE', `/api/v1/pipelines/spare?sha256=${spare.sha256}`, experimenter);
  const draft = (await call(hub, 'POST', '/api/v1/experiments', experimenter, { definition: definition('trial'), start: false })).body as unknown as ExperimentResponse;
  const id = draft.experiment.id;
  await call(hub, 'POST', `/api/v1/experiments/${id}/start`, experimenter, {});
  await call(hub, 'POST', `/api/v1/experiments/${id}/stop`, experimenter, {});

  const audit = await call(hub, 'GET', '/api/v1/audit?limit=1000', await as(hub, 'admin'));
  t.equal(audit.status, 200);
  const entries = (audit.body!.entries as { actor: string; role: string | null; action: string; target: string | null; outcome: string; detail: Record<string, unknown> }[])
    .filter((e) => /^(pipeline|experiment)\./.test(e.action))
    .reverse();
  t.match(entries, [
    { action: 'pipeline.upload', target: `trimmed@${first.sha256}`, outcome: 'ok', detail: { created: true } },
    { action: 'pipeline.upload', target: `trimmed@${first.sha256}`, outcome: 'ok', detail: { created: false } },
    { action: 'pipeline.upload', target: 'remote', outcome: 'refused', detail: { reason: /^the template is refused: remote:\d+: '198\.51\.100\.7:\d+'/ } },
    { action: 'pipeline.upload', target: `spare@${spare.sha256}`, outcome: 'ok' },
    { action: 'pipeline.delete', target: `spare@${spare.sha256}`, outcome: 'ok', detail: { deleted: 1 } },
    { action: 'experiment.create', target: id, outcome: 'ok', detail: { name: 'trial', hosts: 1 } },
    { action: 'experiment.start', target: id, outcome: 'ok', detail: { hosts: 1 } },
    { action: 'experiment.stop', target: id, outcome: 'ok', detail: { verdict: 'stopped' } },
  ], 'in order');
  t.equal(entries.length, 8, 'and nothing else');
  for (const e of entries) t.match(e, { actor: 'test-experimenter', role: 'experimenter' }, `${e.action}: by whom`);
});
