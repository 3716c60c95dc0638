// `phoenix-hub pipeline …` and `phoenix-hub experiment …` through the CLI's main() in-process, against a real hub on
// loopback: an upload and the list; a viewer's token refused (403 → exit 2); a definition the hub rejects named by
// field (exit 2); an unknown id (404 → exit 2); an unreachable hub (exit 1); a missing file (exit 2).
import t from 'tap';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger } from '../../common/logger.js';
import { main } from '../../hub/cli.js';
import { hubRoutes } from '../../hub/http/routes.js';
import { builtinTemplate, startTestHub } from '../helpers/assignment.js';
import { apiToken } from '../helpers/hub-api.js';

async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const [stdout, stderr] = [new PassThrough(), new PassThrough()];
  let [out, err] = ['', ''];
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await main(argv, { stdout, stderr, env, shutdown: new AbortController().signal, logger: silentLogger() });
  return { code, stdout: out, stderr: err };
}

t.test('the pipeline and experiment commands against a real hub', async (t) => {
  const dir = t.testdir();
  const hub = await startTestHub(t, path.join(dir, 'hub'), { routes: hubRoutes });
  const tokenFile = path.join(dir, 'experimenter-token');
  await writeFile(tokenFile, `${await apiToken(hub, 'experimenter')}\n`, { mode: 0o600 });
  const env = { HOME: dir, PHOENIX_HUB_URL: hub.url };
  const as = ['--api-token-file', tokenFile];
  const template = path.join(dir, 'trimmed.yaml');
  await writeFile(template, builtinTemplate('optimized-b'));

  const uploaded = await run(['pipeline', 'upload', 'trimmed', template, '--description', 'a copy of optimized-b', ...as], env);
  t.equal(uploaded.code, 0, uploaded.stderr);
  t.match(uploaded.stdout, /^uploaded trimmed@sha256:[0-9a-f]{64}\n$/);
  const again = await run(['pipeline', 'upload', 'trimmed', template, ...as], env);
  t.match(again.stdout, /already in the catalog: trimmed@sha256:/, 'the same text is the same version');

  const list = await run(['pipeline', 'list', ...as], env);
  t.equal(list.code, 0);
  const rows = list.stdout.trim().split('\n');
  t.match(rows[0], /^NAME\s+SHA256\s+BY\s+UPLOADED\s+USED BY$/);
  t.ok(rows.some((r) => /^trimmed\s+[0-9a-f]{16}\s+test-experimenter\s/.test(r)), 'the upload, by whom');
  t.ok(rows.some((r) => /^baseline\s+[0-9a-f]{16}\s+built-in\s/.test(r)), 'and the built-ins');
  const asJson = await run(['pipeline', 'list', '--json', ...as], env);
  t.same((JSON.parse(asJson.stdout) as { name: string }[]).map((p) => p.name).sort(), ['baseline', 'optimized-a', 'optimized-b', 'optimized-c', 'trimmed']);

  const viewerFile = path.join(dir, 'viewer-token');
  await writeFile(viewerFile, `${await apiToken(hub, 'viewer')}\n`, { mode: 0o600 });
  const refused = await run(['pipeline', 'upload', 'mine', template, '--api-token-file', viewerFile], env);
  t.equal(refused.code, 2, 'a viewer may not upload');
  t.match(refused.stderr, /403/);

  const bad = path.join(dir, 'bad.yaml');
  await writeFile(bad, 'name: trial\nbaseline: { pipeline: baseline }\ncandidate: { pipeline: trimmed }\nrollout: { canary: ten }\n');
  const rejected = await run(['experiment', 'create', '-f', bad, ...as], env);
  t.equal(rejected.code, 2, rejected.stderr);
  t.match(rejected.stderr, /rollout\.canary .*'ten'/, 'the hub names the field and the value');

  const good = path.join(dir, 'good.yaml');
  await writeFile(good, 'name: trial\nbaseline: { pipeline: baseline }\ncandidate: { pipeline: trimmed }\n');
  const noHosts = await run(['experiment', 'create', '-f', good, ...as], env);
  t.equal(noHosts.code, 2);
  t.match(noHosts.stderr, /matches none of the hosts/);

  const listed = await run(['experiment', 'list', ...as], env);
  t.equal(listed.code, 0);
  t.match(listed.stdout, /^ID\s+NAME\s+STATE\s+VERDICT\s+HOSTS\s+WAVES\s+TARGET\n$/, 'none yet: the header only');
  const unknown = await run(['experiment', 'show', 'no-such-1234', ...as], env);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /404|no experiment 'no-such-1234'/);

  const missing = await run(['experiment', 'create', '-f', path.join(dir, 'nope.yaml'), ...as], env);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /--file: cannot read .*nope\.yaml.*ENOENT/);

  const away = await run(['experiment', 'list', '--hub', 'http://127.0.0.1:1', ...as], env);
  t.equal(away.code, 1, 'an unreachable hub is a failure, not a usage error');
  t.match(away.stderr, /127\.0\.0\.1:1/);
});
