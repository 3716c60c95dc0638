// The hub config's `oidc:` section: defaults, the client secret from a file or the environment, and each refusal.
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../../common/errors.js';
import { parseOidcConfig, OIDC_SECRET_ENV } from '../../../hub/access/oidc-config.js';

const SECRET = 'so-secret-value-7f3a9c';
const BASE = { issuer: 'https://login.example.com/realms/ops', clientId: 'phoenix-hub', roles: { admin: ['phoenix-admins'] } };
const ENV = { [OIDC_SECRET_ENV]: SECRET };

/** The ConfigError parseOidcConfig throws for `raw` (fails the test when it does not throw). */
function refusal(t: Test, raw: unknown, env: NodeJS.ProcessEnv = ENV, source = 'hub.yaml'): string {
  try {
    parseOidcConfig(raw, source, env);
  } catch (error) {
    t.type(error, ConfigError);
    t.match(error, { code: 'PHX_CONFIG_INVALID', exitCode: 2 });
    const message = (error as Error).message;
    t.notOk(message.includes(SECRET), 'the secret is never in the message');
    return message;
  }
  t.fail(`accepted ${JSON.stringify(raw)}`);
  return '';
}

t.test('defaults, with the secret from the environment', async (t) => {
  t.same(parseOidcConfig(BASE, 'hub.yaml', ENV), {
    issuer: 'https://login.example.com/realms/ops',
    allowInsecureHttp: false,
    clientId: 'phoenix-hub',
    clientSecret: SECRET,
    scopes: ['openid', 'profile', 'email', 'groups'],
    roleClaim: 'groups',
    nameClaim: 'preferred_username',
    roles: { admin: ['phoenix-admins'] },
    displayName: 'Single sign-on',
  });
});

t.test('every field set; the secret from a file relative to the config, trimmed', async (t) => {
  const dir = t.testdir({ 'oidc-secret': `  ${SECRET}\n` });
  const full = {
    issuer: 'http://127.0.0.1:5556/dex',
    clientId: 'hub',
    redirectUrl: 'https://phoenix.example.com/auth/oidc/callback',
    scopes: ['openid', 'groups'],
    roleClaim: 'roles',
    nameClaim: 'email',
    roles: { admin: ['root'], experimenter: ['lab', 'sre'], viewer: ['staff'] },
    displayName: 'Dex',
  };
  const config = parseOidcConfig({ ...full, clientSecretFile: 'oidc-secret' }, path.join(dir, 'hub.yaml'), {});
  t.same(config, { ...full, allowInsecureHttp: true, clientSecret: SECRET });
  t.notOk('redirectUrl' in parseOidcConfig(BASE, 'hub.yaml', ENV), 'no redirectUrl unless set');
  for (const host of ['localhost', '[::1]']) t.equal(parseOidcConfig({ ...BASE, issuer: `http://${host}:8080` }, 'hub.yaml', ENV).allowInsecureHttp, true, host);
});

t.test('the issuer: https, or http on loopback only', async (t) => {
  t.equal(refusal(t, { ...BASE, issuer: 'ftp://x' }), "hub.yaml: oidc.issuer must be an https:// URL (http:// only on loopback), got 'ftp://x'");
  t.match(refusal(t, { ...BASE, issuer: 'http://login.example.com' }), /oidc\.issuer must be an https:\/\/ URL .*got 'http:\/\/login\.example\.com'/);
  t.match(refusal(t, { ...BASE, issuer: 'login.example.com' }), /oidc\.issuer .*got 'login\.example\.com'/);
  t.match(refusal(t, { ...BASE, issuer: undefined }), /oidc\.issuer .*got nothing/);
});

t.test('each bad field is named with its value', async (t) => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ clientId: '' }, /^hub\.yaml: oidc\.clientId must be the client id registered at the provider, got ''$/],
    [{ clientId: 7 }, /oidc\.clientId must be .*, got 7$/],
    [{ redirectUrl: 'https://hub.example/callback' }, /oidc\.redirectUrl must be an absolute http\(s\) URL whose path is \/auth\/oidc\/callback.*got 'https:\/\/hub\.example\/callback'/],
    [{ redirectUrl: '/auth/oidc/callback' }, /oidc\.redirectUrl .*got '\/auth\/oidc\/callback'/],
    [{ scopes: ['profile', 'groups'] }, /oidc\.scopes must include 'openid', got \["profile","groups"\]/],
    [{ scopes: 'openid' }, /oidc\.scopes must be a list of scope names, got 'openid'/],
    [{ scopes: ['openid', 'a b'] }, /oidc\.scopes\.1 must be one scope name, no spaces, got 'a b'/],
    [{ roleClaim: '  ' }, /oidc\.roleClaim must be a claim name, got '  '/],
    [{ nameClaim: [] }, /oidc\.nameClaim must be a claim name, got \[\]/],
    [{ displayName: false }, /oidc\.displayName must be a label, got false/],
    [{ roles: undefined }, /oidc\.roles must map roles .*, got nothing/],
    [{ roles: {} }, /oidc\.roles must map at least one claim value to a role, got \{\}/],
    [{ roles: { admin: [], viewer: [] } }, /oidc\.roles must map at least one claim value to a role/],
    [{ roles: { admin: 'phoenix-admins' } }, /oidc\.roles\.admin must be a list of claim values, got 'phoenix-admins'/],
    [{ roles: { admin: ['ok', ''] } }, /oidc\.roles\.admin\.1 must be a claim value, got ''/],
    [{ roles: { owner: ['x'] } }, /^hub\.yaml: unknown field 'oidc\.roles\.owner'$/],
    [{ clientSecretFile: '' }, /oidc\.clientSecretFile must be a file path, got ''/],
    [{ tenant: 'x', extra: 1 }, /^hub\.yaml: unknown field 'oidc\.tenant', 'oidc\.extra'$/],
  ];
  for (const [change, expected] of cases) t.match(refusal(t, { ...BASE, ...change }), expected, JSON.stringify(change));
  t.match(refusal(t, 'yes'), /^hub\.yaml: oidc must be a mapping of fields, got 'yes'$/);
  t.match(refusal(t, null), /^hub\.yaml: oidc must be a mapping of fields, got null$/);
});

t.test('the client secret: from exactly one place, and never shown', async (t) => {
  t.equal(refusal(t, BASE, {}), `hub.yaml: oidc needs the client secret: set oidc.clientSecretFile or ${OIDC_SECRET_ENV}`);
  t.match(refusal(t, BASE, { [OIDC_SECRET_ENV]: '   ' }), /needs the client secret/, 'a blank variable is no secret');
  const written = refusal(t, { ...BASE, clientSecret: SECRET });
  t.match(written, /^hub\.yaml: unknown field 'oidc\.clientSecret' \(put the secret in a file named by oidc\.clientSecretFile, or in PHOENIX_OIDC_CLIENT_SECRET\)$/);

  const dir = t.testdir({ secret: SECRET, empty: ' \n' });
  const source = path.join(dir, 'hub.yaml');
  t.match(refusal(t, { ...BASE, clientSecretFile: 'secret' }, ENV, source), /oidc\.clientSecretFile and PHOENIX_OIDC_CLIENT_SECRET are both set/);
  t.equal(refusal(t, { ...BASE, clientSecretFile: 'empty' }, {}, source), `${source}: oidc.clientSecretFile '${path.join(dir, 'empty')}' is empty: it must hold the client secret`);
  t.match(refusal(t, { ...BASE, clientSecretFile: 'missing' }, {}, source), new RegExp(`oidc\\.clientSecretFile: cannot read '${path.join(dir, 'missing')}' \\(ENOENT\\)`));
  t.match(refusal(t, { ...BASE, clientSecretFile: dir }, {}, source), /cannot read .* \(EISDIR\)/);
  t.equal(parseOidcConfig({ ...BASE, clientSecretFile: path.join(dir, 'secret') }, 'elsewhere/hub.yaml', {}).clientSecret, SECRET, 'an absolute path');
  writeFileSync(path.join(dir, 'secret'), `${SECRET}-rotated\n`);
  t.equal(parseOidcConfig({ ...BASE, clientSecretFile: 'secret' }, source, {}).clientSecret, `${SECRET}-rotated`, 'read at each parse');
});
