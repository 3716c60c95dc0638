// The pipeline catalog over a real SQLite store: the built-ins as the files in pipelines/ hash, references resolved
// by name or by version, uploads checked against the placeholders and the policy (each refusal naming its line),
// versions by content, and deletion refused while an experiment uses a version.
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../../common/paths.js';
import { BUILTIN_PIPELINES, PipelineCatalog, templateProblems } from '../../../hub/experiments/catalog.js';
import type { ExperimentRecord, PipelineRef } from '../../../hub/experiments/experiment-store.js';
import { promised } from '../../../common/promised.js';
import { openSqliteStore } from '../../../hub/store/sqlite.js';
import type { SyncStore as Store } from '../../../hub/store/types.js';
import { MAX_TEMPLATE_BYTES } from '../../../protocol/assignment.js';

const NOW = Date.UTC(2026, 5, 1);
const hex = (text: string) => createHash('sha256').update(text).digest('hex');
const fileOf = (name: string) => readFileSync(path.join(packageRoot(), 'pipelines', `${name}.yaml`), 'utf8');
/** A valid template to start from: the built-in optimized-b's text. */
const TEMPLATE = fileOf('optimized-b');

function openCatalog(t: Test): { store: Store; catalog: PipelineCatalog } {
  const store = openSqliteStore({ file: path.join(t.testdir(), 'hub.db') });
  t.teardown(() => store.close());
  return { store, catalog: new PipelineCatalog(promised(store.experiments)) };
}

/** `text` with `from` replaced (which must be there), and the 1-based line `marker` then stands on. */
function edited(from: string, to: string, marker: string): { text: string; line: number } {
  if (!TEMPLATE.includes(from)) throw new Error(`the template has no '${from}'`);
  const text = TEMPLATE.replace(from, to);
  const line = text.split('\n').findIndex((l) => l.includes(marker)) + 1;
  if (line === 0) throw new Error(`no line with '${marker}'`);
  return { text, line };
}

function experimentUsing(id: string, candidate: PipelineRef, state: ExperimentRecord['state'] = 'draft'): ExperimentRecord {
  return {
    id, name: id, description: null, spec: '{}', state, revision: 1,
    baseline: { pipeline: 'baseline', sha256: hex(fileOf('baseline')) }, candidate,
    createdBy: 'alice', createdAt: NOW, startedAt: null, endedAt: null, outcome: null, guard: null,
  };
}

t.test('the built-ins are listed first, each with the sha256 of its file in pipelines/', async (t) => {
  const { catalog } = openCatalog(t);
  const listed = await catalog.list();
  t.same(listed.map((p) => p.name), [...BUILTIN_PIPELINES], 'only the built-ins in an empty store');
  for (const entry of listed) {
    const content = fileOf(entry.name);
    t.match(entry, { builtin: true, sha256: hex(content), uploadedBy: 'phoenix' }, entry.name);
    t.equal(entry.content, content, `${entry.name}: its text`);
  }
});

t.test('resolve: a name, a name at a version, and what is not there named in the refusal', async (t) => {
  const { catalog } = openCatalog(t);
  const baselineSha = hex(fileOf('baseline'));
  t.match(await catalog.resolve('baseline', 'baseline.pipeline'), { name: 'baseline', sha256: baselineSha, builtin: true });
  t.match(await catalog.resolve(`baseline@sha256:${baselineSha}`, 'baseline.pipeline'), { name: 'baseline', builtin: true });
  const other = 'e'.repeat(64);
  await t.rejects(catalog.resolve(`baseline@sha256:${other}`, 'baseline.pipeline'), { status: 404, message: new RegExp(`^baseline\\.pipeline: the built-in 'baseline' is version ${baselineSha}, not ${other}$`) });

  const first = (await catalog.upload('alice', 'mine', TEMPLATE, null, NOW)).entry;
  const second = (await catalog.upload('alice', 'mine', `${TEMPLATE}# v2\n`, null, NOW + 1)).entry;
  t.equal((await catalog.resolve('mine', 'candidate.pipeline')).sha256, second.sha256, 'a bare name: the newest version');
  t.match(await catalog.resolve(`mine@sha256:${first.sha256}`, 'candidate.pipeline'), { sha256: first.sha256, content: TEMPLATE, builtin: false }, 'one version by its hash');

  await t.rejects(catalog.resolve('nothing', 'candidate.pipeline'), { status: 404, message: /^candidate\.pipeline: no template 'nothing' in the catalog/ });
  await t.rejects(catalog.resolve(`mine@sha256:${other}`, 'candidate.pipeline'), { status: 404, message: `no template 'mine@sha256:${other}'` });
  for (const bad of ['Mine', 'mine@sha256:abc', 'mine@md5:' + 'a'.repeat(32), '']) {
    await t.rejects(catalog.resolve(bad, 'candidate.pipeline'), { status: 400, message: `candidate.pipeline: '${bad}' is not a template name` }, JSON.stringify(bad));
  }
});

t.test('upload: a new text is a version, the same text again exists, a changed one is another version', async (t) => {
  const { catalog } = openCatalog(t);
  const made = await catalog.upload('alice', 'mine', TEMPLATE, 'a copy of optimized-b', NOW);
  t.equal(made.created, true);
  t.same(made.entry, { name: 'mine', sha256: hex(TEMPLATE), content: TEMPLATE, description: 'a copy of optimized-b', uploadedBy: 'alice', uploadedAt: NOW, builtin: false });

  const again = await catalog.upload('bob', 'mine', TEMPLATE, 'again', NOW + 5);
  t.equal(again.created, false, 'the same text under the same name');
  t.same(again.entry, made.entry, 'the first upload is what is kept and answered');

  const changed = `${TEMPLATE}# tuned\n`;
  const next = await catalog.upload('bob', 'mine', changed, null, NOW + 10);
  t.equal(next.created, true);
  t.equal(next.entry.sha256, hex(changed));
  t.not(next.entry.sha256, made.entry.sha256);
  t.same((await catalog.list()).filter((p) => !p.builtin).map((p) => [p.name, p.sha256, p.uploadedBy]), [['mine', hex(changed), 'bob'], ['mine', hex(TEMPLATE), 'alice']], 'both versions, newest first');

  t.equal((await catalog.upload('carol', 'other', TEMPLATE, null, NOW + 20)).created, true, 'the same text under another name is another template');
});

t.test('templateProblems and upload refusals name the template and the line', async (t) => {
  const { catalog } = openCatalog(t);
  t.same(templateProblems(TEMPLATE, 'mine'), [], 'a built-in passes as it is');
  const cases: { what: string; text: string; line: number; says: RegExp }[] = [
    { what: 'an unknown placeholder', ...edited('{{metric_expiration}}', '{{expiry}}', '{{expiry}}'), says: /unknown placeholder \{\{expiry\}\}/ },
    { what: 'an otlp exporter', ...edited('exporters:\n  prometheus:', 'exporters:\n  otlp:\n    endpoint: 127.0.0.1:4317\n  prometheus:', '  otlp:'), says: /exporter 'otlp' is not allowed/ },
    { what: 'a filelog receiver', ...edited('receivers:\n', 'receivers:\n  filelog:\n    include: [x.log]\n', '  filelog:'), says: /receiver 'filelog' is not allowed/ },
    { what: 'a non-loopback endpoint', ...edited('endpoint: 127.0.0.1:{{exporter_port}}', 'endpoint: 10.0.0.1:{{exporter_port}}', '10.0.0.1'), says: /'10\.0\.0\.1:\d+': an address other than 127\.0\.0\.1/ },
    { what: 'a file path', ...edited('  batch: {}', '  batch:\n    metadata_keys: [./secrets]', './secrets'), says: /'\.\/secrets': a file path is not allowed/ },
  ];
  for (const c of cases) {
    const problems = templateProblems(c.text, 'mine');
    const named = problems.find((p) => c.says.test(p));
    t.ok(named, `${c.what}: reported (${JSON.stringify(problems)})`);
    t.match(named, new RegExp(`^mine:${c.line}: `), `${c.what}: on line ${c.line}`);
    await t.rejects(catalog.upload('alice', 'mine', c.text, null, NOW), { status: 400, message: new RegExp(`^the template is refused: .*mine:${c.line}: `) }, `${c.what}: upload refused`);
  }

  // A required placeholder that is missing stands on no line: the message names the template and the placeholder.
  const missing = TEMPLATE.replace('{{metric_expiration}}', '1m');
  t.same(templateProblems(missing, 'mine'), [`mine: the template must use {{metric_expiration}} (the agent assigns ports, and both variants must share interval and expiration)`]);
  await t.rejects(catalog.upload('alice', 'mine', missing, null, NOW), { status: 400, message: /\{\{metric_expiration\}\}/ });
  t.same((await catalog.list()).filter((p) => !p.builtin), [], 'no refused template was kept');
});

t.test('upload refuses an oversize template, a bad name and a built-in name', async (t) => {
  const { catalog } = openCatalog(t);
  const padTo = (bytes: number) => TEMPLATE + '#'.repeat(bytes - Buffer.byteLength(TEMPLATE));
  t.equal((await catalog.upload('alice', 'largest', padTo(MAX_TEMPLATE_BYTES), null, NOW)).created, true, `exactly ${MAX_TEMPLATE_BYTES} bytes`);
  await t.rejects(catalog.upload('alice', 'larger', padTo(MAX_TEMPLATE_BYTES + 1), null, NOW), { status: 400, message: `content: the template is over ${MAX_TEMPLATE_BYTES} bytes` });
  // Bytes, not characters: two-byte characters under the character count are still too many bytes.
  const wide = `${TEMPLATE}#${'é'.repeat(MAX_TEMPLATE_BYTES / 2)}`;
  t.ok(wide.length < MAX_TEMPLATE_BYTES);
  await t.rejects(catalog.upload('alice', 'wide', wide, null, NOW), { status: 400, message: /over \d+ bytes/ });

  t.equal((await catalog.upload('alice', 'a'.repeat(63), TEMPLATE, null, NOW)).created, true, 'a 63-character name');
  for (const bad of ['', 'Mine', '1mine', '-mine', 'my_pipe', 'my pipe', 'mine@sha256', 'a'.repeat(64)]) {
    await t.rejects(catalog.upload('alice', bad, TEMPLATE, null, NOW), { status: 400, message: `name: '${bad}' must be 1-63 of a-z 0-9 -` }, JSON.stringify(bad));
  }
  for (const name of BUILTIN_PIPELINES) {
    await t.rejects(catalog.upload('alice', name, TEMPLATE, null, NOW), { status: 409, message: `name: '${name}' is a built-in template` }, name);
  }
  t.same((await catalog.list()).filter((p) => !p.builtin).map((p) => p.name).sort(), ['a'.repeat(63), 'largest']);
});

t.test('delete: refused for a version in use (naming the experiment) and for a built-in; an unused version goes', async (t) => {
  const { store, catalog } = openCatalog(t);
  const used = (await catalog.upload('alice', 'used', TEMPLATE, null, NOW)).entry;
  const spare = (await catalog.upload('alice', 'used', `${TEMPLATE}# spare\n`, null, NOW + 1)).entry;
  store.experiments.createExperiment(experimentUsing('trial-1', { pipeline: 'used', sha256: used.sha256 }, 'completed'), [], {
    experimentId: 'trial-1', at: NOW, kind: 'created', hostId: null, actor: 'alice', detail: '{}',
  });

  await t.rejects(catalog.delete('used', used.sha256), { status: 409, message: "'used' is used by experiment trial-1; it cannot be deleted" }, 'the version in use, though its experiment ended');
  await t.rejects(catalog.delete('used'), { status: 409, message: /trial-1/ }, 'every version, one of them in use');
  t.equal(await catalog.delete('used', spare.sha256), 1, 'the unused version');
  t.same((await catalog.list()).filter((p) => !p.builtin).map((p) => p.sha256), [used.sha256], 'the one in use stays');
  await t.rejects(catalog.delete('used', spare.sha256), { status: 404, message: `no template 'used' version ${spare.sha256} in the catalog` }, 'gone already');

  await catalog.upload('alice', 'unused', TEMPLATE, null, NOW);
  t.equal(await catalog.delete('unused'), 1);
  await t.rejects(catalog.resolve('unused', 'candidate.pipeline'), { status: 404, message: /no template 'unused'/ });
  await t.rejects(catalog.delete('unused'), { status: 404, message: "no template 'unused' in the catalog" });
  for (const name of BUILTIN_PIPELINES) {
    await t.rejects(catalog.delete(name), { status: 409, message: `'${name}' is a built-in template and cannot be deleted` }, name);
  }
});
