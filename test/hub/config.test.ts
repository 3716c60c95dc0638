// The hub's --config file: session times and single sign-on, each bad value named with its field (exit 2).
import t from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { loadHubConfig, resolveHubConfig } from '../../hub/config.js';
import { main } from '../../hub/cli.js';
import { parseYamlMapping } from '../../common/yaml-file.js';

const parse = (text: string, env: NodeJS.ProcessEnv = {}) => resolveHubConfig(parseYamlMapping(text, 'hub.yaml'), 'hub.yaml', env);

t.test('sessions and single sign-on as written; nothing written: the defaults', async (t) => {
  t.same(parse(''), { sessions: {}, oidc: null, store: null });
  t.same(parse('sessions: { idle: 15m, absolute: 8h }'), { sessions: { idleMs: 900_000, absoluteMs: 28_800_000 }, oidc: null, store: null });
  const config = parse('oidc:\n  issuer: https://login.example.com\n  clientId: phoenix\n  roles: { viewer: [ops] }\n', { PHOENIX_OIDC_CLIENT_SECRET: 'from-env-secret' });
  t.match(config.oidc, { issuer: 'https://login.example.com', clientId: 'phoenix', clientSecret: 'from-env-secret', roles: { viewer: ['ops'] } });
});

t.test('each bad value is refused, naming the file, the field and the value', async (t) => {
  const cases: [text: string, ...mentions: string[]][] = [
    ['sesions: {}', "unknown field 'sesions'", 'sessions, oidc'],
    ['sessions: { idle: soon }', 'sessions.idle', "'soon'"],
    ['sessions: { absolute: 30s }', 'sessions.absolute', '1m to 30d', "'30s'"],
    ['sessions: { absolute: 60d }', 'sessions.absolute', "'60d'"],
    ['sessions: { idel: 5m }', "'sessions.idel'", 'idle, absolute'],
    ['sessions: { idle: 2h, absolute: 1h }', 'sessions.idle (2h) is longer than sessions.absolute (1h)'],
    ['sessions: [1]', 'sessions must be a mapping', '[1]'],
    ['oidc: { issuer: ftp://x, clientId: c, roles: { viewer: [v] } }', 'oidc.issuer', "'ftp://x'"],
    ['- a list', 'must be a YAML mapping'],
    ['a: [', 'invalid YAML at line'],
  ];
  for (const [text, ...mentions] of cases) {
    const error = (() => {
      try {
        parse(text, { PHOENIX_OIDC_CLIENT_SECRET: 's3cret-value' });
        return null;
      } catch (e) {
        return e as Error & { code?: string; exitCode?: number };
      }
    })();
    t.equal(error?.code, 'PHX_CONFIG_INVALID', `${text}: refused`);
    t.equal(error?.exitCode, 2);
    for (const m of mentions) t.ok(error?.message.includes(m), `${text}: "${error?.message}" names ${m}`);
    t.notOk(error?.message.includes('s3cret-value'), 'never the secret');
  }
});

t.test('phoenix-hub --config with a bad file exits 2 before it listens, naming it', async (t) => {
  const dir = t.testdir();
  const tokens = path.join(dir, 'tokens');
  writeFileSync(tokens, 'config-test-token-0123456789\n');
  const file = path.join(dir, 'hub.yaml');
  writeFileSync(file, 'sessions: { idle: forever }\n');
  const stderr = new PassThrough();
  let printed = '';
  stderr.setEncoding('utf8').on('data', (d: string) => (printed += d));
  let started = false;
  const code = await main(['--port', '0', '--data-dir', path.join(dir, 'data'), '--token-file', tokens, '--config', file], {
    stdout: new PassThrough(), stderr, env: {}, shutdown: new AbortController().signal, onStarted: () => (started = true),
  });
  t.equal(code, 2);
  t.match(printed, `${file}: sessions.idle`);
  t.match(printed, "'forever'");
  t.notOk(started, 'no hub started');
  t.throws(() => loadHubConfig(path.join(dir, 'missing.yaml'), {}), { code: 'PHX_CONFIG_INVALID', message: /missing\.yaml: cannot read config file \(ENOENT\)/ });
});
