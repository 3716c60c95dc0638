// phoenix-agent's command line, in-process: flags, exit codes, messages.
import t from 'tap';
import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { phoenixVersion } from '../../common/paths.js';
import { autoPort } from '../../agent/supervisor/ports.js';
import { realCollector } from '../helpers/collector.js';
import { writeTestConfig } from '../helpers/agent-config.js';
import { runCli } from '../helpers/cli-run.js';

const binary = realCollector();

t.test('--version and --help exit 0', async (t) => {
  const version = await runCli(['--version']);
  t.equal(version.code, 0);
  t.equal(version.stdout.trim(), phoenixVersion());
  const help = await runCli(['run', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /--once/);
  t.match(help.stdout, /--otelcol <path>/);
});

t.test('bad flags exit 2 naming the flag', async (t) => {
  const unknown = await runCli(['run', '--onse']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown option '--onse'/);
  const level = await runCli(['run', '--log-level', 'loud']);
  t.equal(level.code, 2);
  t.match(level.stderr, /--log-level.*loud.*choices/s);
  const command = await runCli(['launch']);
  t.equal(command.code, 2);
  t.match(command.stderr, /unknown command 'launch'/);
  const none = await runCli([]);
  t.equal(none.code, 2, 'no command is a usage error');
  t.match(none.stderr, /Usage: phoenix-agent/);
  const otelcol = await runCli(['validate', '--otelcol', '/nonexistent/otelcol']);
  t.equal(otelcol.code, 2);
  t.match(otelcol.stderr, /--otelcol: '\/nonexistent\/otelcol' is not an executable file/);
});

t.test('a bad config exits 2 with a message naming file, field and value', async (t) => {
  const { file } = await writeTestConfig(t, { interval: 'often' });
  const result = await runCli(['run', '--once', '--config', file, '--otelcol', binary]);
  t.equal(result.code, 2);
  t.equal(result.stderr, `phoenix-agent: ${file}: interval must be a duration such as '15s' or '2m' (measurement interval), got 'often'\n`);
  t.equal(result.stdout, '');
});

t.test('no collector anywhere: exit 3 with how to get one', async (t) => {
  const empty = await mkdtemp(path.join(tmpdir(), 'phx-nocol-'));
  t.teardown(() => rm(empty, { recursive: true, force: true }));
  const result = await runCli(['validate'], { env: { PATH: empty, PHOENIX_CACHE_DIR: empty, HOME: empty } });
  t.equal(result.code, 3);
  t.match(result.stderr, /no OpenTelemetry Collector binary found/);
  t.match(result.stderr, /npm run build:collector/);
  t.match(result.stderr, /otelcol-contrib/);
});

t.test('validate: both pipelines checked by the real collector', async (t) => {
  const { file } = await writeTestConfig(t, { experiment: { variants: ['optimized-a', 'optimized-b'] } });
  const ok = await runCli(['validate', '--config', file, '--otelcol', binary]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /^ok {2}optimized-a .*\nok {2}optimized-b /m);

  const dir = await mkdtemp(path.join(tmpdir(), 'phx-val-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bad = path.join(dir, 'bad.yaml');
  await writeFile(bad, 'receivers: {{exporter_port}}{{telemetry_port}}{{health_port}}{{collection_interval}}{{metric_expiration}}\n');
  const { file: badConfig } = await writeTestConfig(t, { experiment: { variants: ['baseline', { name: 'bad', pipeline: bad }] } });
  const invalid = await runCli(['validate', '--config', badConfig, '--otelcol', binary]);
  t.equal(invalid.code, 2);
  t.match(invalid.stdout, /^ok {2}baseline/m);
  t.match(invalid.stdout, /^INVALID {2}bad {2}\(.*bad\.yaml\)\n {2}Error: .*receivers/m);
});

t.test('a port in use: clear error naming the port and the variant', async (t) => {
  const port = await autoPort();
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(port + 10 + 1 > 65_000 ? port : port, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  // Variant A takes base..base+2, variant B base+10..base+12: block B's telemetry port.
  const { file } = await writeTestConfig(t, { ports: { base: port - 11 } });
  const result = await runCli(['run', '--once', '--config', file, '--otelcol', binary]);
  t.equal(result.code, 1);
  t.match(result.stderr, new RegExp(`variant 'optimized-a': internal telemetry port ${port} is already in use`));
  // The daemon too: it exits with the error rather than idling without collectors.
  const daemon = await runCli(['run', '--config', file, '--otelcol', binary]);
  t.equal(daemon.code, 1);
  t.match(daemon.stderr, new RegExp(`internal telemetry port ${port} is already in use`));
});
