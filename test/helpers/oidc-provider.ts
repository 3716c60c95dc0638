// A real OpenID provider (oidc-provider) on 127.0.0.1 for single sign-on tests, and a scripted person signing in at it.
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { Test } from 'tap';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

export interface ProviderUser {
  groups: string[];
  email?: string;
}

export interface OidcProviderOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Who may sign in, by login name (also their `sub` and `preferred_username`); anyone else is refused. */
  users: Record<string, ProviderUser>;
  /** False: `groups` only in userinfo, as oidc-provider (and many providers) do by default. Default true. */
  groupsInIdToken?: boolean;
}

const HOUR = 3600;

/**
 * Starts oidc-provider on 127.0.0.1 port 0 with one confidential client (client_secret_basic, PKCE required), its
 * development login form (any password), consent skipped, and `groups` in the ID token. An unknown user is refused
 * the way a real provider refuses: a redirect to the client with `error=access_denied`. Closed in t.teardown.
 */
export async function startOidcProvider(t: Test, options: OidcProviderOptions): Promise<{ issuer: string; close(): Promise<void> }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const close = async () => {
    server.closeAllConnections();
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.teardown(close);
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, providerConfiguration(options));
  provider.use(async (ctx, next) => {
    // The development form's submit, answered here so that only the given users get in.
    if (ctx.method !== 'POST' || !/^\/interaction\/[^/]+$/.test(ctx.path)) return next();
    const form = new URLSearchParams(await readBody(ctx.req));
    const login = form.get('login') ?? '';
    const result = Object.hasOwn(options.users, login)
      ? { login: { accountId: login } }
      : { error: 'access_denied', error_description: `no such user ${JSON.stringify(login)}` };
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
  });
  server.on('request', provider.callback());
  return { issuer, close };
}

function providerConfiguration(options: OidcProviderOptions): Configuration {
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  return {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [{ ...signingKey, use: 'sig', alg: 'RS256' }] },
    scopes: ['openid', 'profile', 'email', 'groups'],
    claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email'], groups: ['groups'] },
    conformIdTokenClaims: options.groupsInIdToken === false,
    findAccount: (_ctx, sub) => {
      const user = Object.hasOwn(options.users, sub) ? options.users[sub] : undefined;
      if (user === undefined) return undefined;
      const claims = { sub, preferred_username: sub, groups: user.groups, ...(user.email === undefined ? {} : { email: user.email }) };
      return { accountId: sub, claims: () => claims };
    },
    loadExistingGrant: skipConsent,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['phoenix-test-cookie-key'] },
    renderError: (ctx, out) => {
      ctx.type = 'text';
      ctx.body = `${out.error}: ${out.error_description ?? ''}`;
    },
    // Each set, so that oidc-provider prints no "you SHOULD change it" notice for its defaults.
    ttl: {
      AccessToken: HOUR,
      AuthorizationCode: 60,
      BackchannelAuthenticationRequest: 600,
      ClientCredentials: 600,
      DeviceCode: 600,
      Grant: HOUR,
      IdToken: HOUR,
      Interaction: HOUR,
      PreAuthorizedCode: 600,
      RefreshToken: HOUR,
      Session: HOUR,
    },
  };
}

/** The signed-in person has consented to every scope the client asks for (a first-party client). */
async function skipConsent(ctx: KoaContextWithOIDC) {
  const { oidc } = ctx;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(oidc.client!.clientId);
  if (grantId) return oidc.provider.Grant.find(grantId);
  const grant = new oidc.provider.Grant({ clientId: oidc.client!.clientId, accountId: oidc.session!.accountId });
  grant.addOIDCScope(String(oidc.params?.scope ?? 'openid'));
  await grant.save();
  return grant;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Follows `authorizationUrl` through the provider as a browser would (redirects, cookies), fills its login form as
 * `user`, and returns the URL the provider finally redirects to outside itself: the relying party's callback, which it
 * does not request.
 */
export async function signInThroughProvider(authorizationUrl: URL, user: string): Promise<URL> {
  const cookies = new Map<string, string>();
  let url = authorizationUrl;
  let body: URLSearchParams | undefined;
  for (let hop = 0; hop < 10; hop++) {
    const response = await fetch(url, {
      method: body === undefined ? 'GET' : 'POST',
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
      ...(body === undefined ? {} : { body }),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      if (value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    const location = response.headers.get('location');
    if (response.status >= 300 && response.status < 400 && location !== null) {
      await response.body?.cancel();
      const next = new URL(location, url);
      if (next.origin !== authorizationUrl.origin) return next;
      [url, body] = [next, undefined];
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (response.status !== 200 || action === undefined || !html.includes('name="login"')) {
      throw new Error(`the provider answered ${response.status} at ${url.pathname} without a login form: ${html.slice(0, 300)}`);
    }
    url = new URL(unescapeHtml(action), url);
    body = new URLSearchParams({ prompt: 'login', login: user, password: 'any' });
  }
  throw new Error(`signing in as ${user}: more than 10 redirects`);
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#x2F);/g, (_, entity: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x2F': '/' })[entity]!);
}
