// Single sign-on against a real OpenID provider on loopback: roles from groups, and each way a sign-in is refused.
import t, { type Test } from 'tap';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { OidcSignIn, roleForClaim, type PendingSignIn } from '../../../hub/access/oidc.js';
import { OidcError } from '../../../hub/access/oidc-errors.js';
import type { OidcConfig } from '../../../hub/access/oidc-config.js';
import { startOidcProvider, signInThroughProvider, type OidcProviderOptions } from '../../helpers/oidc-provider.js';
import { captureLogs } from '../../helpers/logs.js';

const CLIENT_SECRET = 'test-client-secret-0123456789';
const REDIRECT = 'http://127.0.0.1:9/auth/oidc/callback'; // never requested: the test takes the callback URL itself
const USERS: OidcProviderOptions['users'] = {
  alice: { groups: ['phoenix-admins', 'ops'], email: 'alice@example.test' },
  olga: { groups: ['ops'] },
  nobody: { groups: ['marketing'] },
};

function configFor(issuer: string, overrides: Partial<OidcConfig> = {}): OidcConfig {
  return {
    issuer,
    allowInsecureHttp: true,
    clientId: 'phoenix-hub',
    clientSecret: CLIENT_SECRET,
    scopes: ['openid', 'profile', 'email', 'groups'],
    roleClaim: 'groups',
    nameClaim: 'preferred_username',
    roles: { admin: ['phoenix-admins'], viewer: ['ops'] },
    displayName: 'Company SSO',
    ...overrides,
  };
}

async function setUp(t: Test, options: Partial<OidcProviderOptions> = {}, overrides: Partial<OidcConfig> = {}) {
  const provider = await startOidcProvider(t, { clientId: 'phoenix-hub', clientSecret: CLIENT_SECRET, redirectUris: [REDIRECT], users: USERS, ...options });
  const logs = captureLogs('info');
  const sso = await OidcSignIn.discover(configFor(provider.issuer, overrides), logs.logger);
  /** begin → the person signs in at the provider → the callback URL and what begin kept. */
  const signIn = async (user: string) => {
    const { url, pending } = sso.begin(REDIRECT);
    return { callback: await signInThroughProvider(url, user), pending };
  };
  return { provider, sso, logs, signIn };
}

async function refusal(t: Test, promise: Promise<unknown>, reason: string): Promise<OidcError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, OidcError);
  t.match(error, { code: 'PHX_OIDC_SIGN_IN', reason, message: new RegExp(`\\(${reason}\\)`) });
  return error as OidcError;
}

t.test('an admin signs in: the authorization request, the role from groups, the name from the claim', async (t) => {
  const { provider, sso, logs } = await setUp(t);
  t.equal(sso.displayName, 'Company SSO');
  const { url, pending } = sso.begin(REDIRECT);
  t.match(Object.fromEntries(url.searchParams), {
    response_type: 'code',
    client_id: 'phoenix-hub',
    redirect_uri: REDIRECT,
    scope: 'openid profile email groups',
    state: pending.state,
    nonce: pending.nonce,
    code_challenge_method: 'S256',
  });
  t.not(url.searchParams.get('code_challenge'), pending.codeVerifier, 'the challenge is a hash, not the verifier');
  t.not(sso.begin(REDIRECT).pending.state, pending.state, 'each sign-in has its own state');

  const callback = await signInThroughProvider(url, 'alice');
  t.equal(callback.origin + callback.pathname, REDIRECT, 'the provider redirects to the registered callback');
  const identity = await sso.finish(callback, pending);
  t.same(identity, { subject: 'alice', name: 'alice', role: 'admin', issuer: provider.issuer });
  const line = logs.lines.find((l) => l.msg === 'single sign-on: signed in');
  t.match(line, { subject: 'alice', role: 'admin', level: 30 });
  const logged = JSON.stringify(logs.lines);
  for (const secret of [CLIENT_SECRET, callback.searchParams.get('code')!, pending.codeVerifier]) t.notOk(logged.includes(secret), 'no secret, code or verifier in the log');

  await refusal(t, sso.finish(callback, pending), 'exchange_failed').then((error) => {
    t.match(error.message, /invalid_grant/, 'the same code a second time is refused by the provider');
  });
});

t.test('a user in a group mapped to viewer is a viewer; the name falls back to email, then sub', async (t) => {
  const { sso, signIn } = await setUp(t, {}, { nameClaim: 'email' });
  const olga = await signIn('olga');
  t.match(await sso.finish(olga.callback, olga.pending), { subject: 'olga', name: 'olga', role: 'viewer' }, 'no email: the subject');
  const alice = await signIn('alice');
  t.match(await sso.finish(alice.callback, alice.pending), { name: 'alice@example.test', role: 'admin' });
});

t.test('groups only in userinfo (the provider default) still map to a role', async (t) => {
  const { sso, signIn } = await setUp(t, { groupsInIdToken: false });
  const { callback, pending } = await signIn('olga');
  t.match(await sso.finish(callback, pending), { subject: 'olga', role: 'viewer' });
});

t.test('a user in no mapped group is refused with no_role, and it is logged with the subject', async (t) => {
  const { sso, logs, signIn } = await setUp(t);
  const { callback, pending } = await signIn('nobody');
  const error = await refusal(t, sso.finish(callback, pending), 'no_role');
  t.match(error.message, /'nobody' has groups \["marketing"\], which match no role/);
  t.match(logs.lines.find((l) => l.level === 40), { reason: 'no_role', subject: 'nobody' });
});

t.test('a tampered state is refused before the code is used; the real sign-in still completes', async (t) => {
  const { sso, signIn } = await setUp(t);
  const { callback, pending } = await signIn('alice');
  const tampered = new URL(callback);
  tampered.searchParams.set('state', 'forged');
  await refusal(t, sso.finish(tampered, pending), 'state_mismatch');
  await refusal(t, sso.finish(callback, { ...pending, state: 'another sign-in' }), 'state_mismatch');
  t.match(await sso.finish(callback, pending), { role: 'admin' }, 'the code was not spent by the refused attempts');
});

t.test('the ID token must carry the nonce of this sign-in, and the code its PKCE verifier', async (t) => {
  const { sso, signIn } = await setUp(t);
  const first = await signIn('alice');
  await refusal(t, sso.finish(first.callback, { ...first.pending, nonce: 'other' }), 'exchange_failed').then((error) => {
    t.match(error.message, /nonce/);
  });
  const second = await signIn('alice');
  await refusal(t, sso.finish(second.callback, { ...second.pending, codeVerifier: 'x'.repeat(43) }), 'exchange_failed');
});

t.test('an error callback is a provider_error, from the provider itself or as a bare query', async (t) => {
  const { sso, signIn } = await setUp(t);
  const stranger = await signIn('mallory');
  t.equal(stranger.callback.searchParams.get('error'), 'access_denied', 'the provider refuses an unknown user');
  const error = await refusal(t, sso.finish(stranger.callback, stranger.pending), 'provider_error');
  t.match(error.message, /'access_denied': 'no such user/);
  const pending: PendingSignIn = sso.begin(REDIRECT).pending;
  await refusal(t, sso.finish(new URL(`${REDIRECT}?error=access_denied`), pending), 'provider_error');
});

t.test('a sign-in older than ten minutes is refused as expired', async (t) => {
  const { sso, signIn } = await setUp(t);
  const { callback, pending } = await signIn('alice');
  await refusal(t, sso.finish(callback, { ...pending, createdAt: Date.now() - 11 * 60_000 }), 'expired');
});

t.test('discovery fails fast and names the issuer: nothing listening, or no answer within the timeout', async (t) => {
  const closed = createServer().listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const started = Date.now();
  const error = await OidcSignIn.discover(configFor(`http://127.0.0.1:${port}`), captureLogs().logger).catch((e: unknown) => e);
  t.match(error, { code: 'PHX_OIDC_DISCOVERY', exitCode: 1, message: new RegExp(`http://127\\.0\\.0\\.1:${port}'.*ECONNREFUSED`) });
  t.ok(Date.now() - started < 2000, 'refused at once');

  const held = new Set<Socket>();
  const silent = createServer((socket) => held.add(socket)).listen(0, '127.0.0.1'); // accepts, never answers
  await once(silent, 'listening');
  t.teardown(() => {
    for (const socket of held) socket.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const quiet = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const timedOut = await OidcSignIn.discover(configFor(quiet), captureLogs().logger, { timeoutMs: 300 }).catch((e: unknown) => e);
  t.match(timedOut, { code: 'PHX_OIDC_DISCOVERY', message: /no answer within 300 ms/ });
  t.notOk(String((timedOut as Error).message).includes(CLIENT_SECRET));
});

t.test('roleForClaim: a string or a list, the highest mapped role, null for none', async (t) => {
  const roles = { admin: ['root'], experimenter: ['lab'], viewer: ['ops', 'lab'] };
  t.equal(roleForClaim('ops', roles), 'viewer');
  t.equal(roleForClaim(['ops', 'lab'], roles), 'experimenter');
  t.equal(roleForClaim(['lab', 'root', 'x'], roles), 'admin');
  t.equal(roleForClaim(['x'], roles), null);
  t.equal(roleForClaim(undefined, roles), null);
  t.equal(roleForClaim([42, { root: true }], roles), null, 'non-string values match nothing');
  t.equal(roleForClaim('root', { viewer: ['ops'] }), null);
});
