// Single sign-on's relying party: sends a person to the OpenID provider and turns the provider's answer into a hub role.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { showValue } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { OidcConfig } from './oidc-config.js';
import { OidcError, type SignInRefusal } from './oidc-errors.js';
import { highestRole, ROLES, type Role } from './roles.js';

export interface OidcIdentity {
  /** The provider's `sub`: stable for one person at one issuer. */
  subject: string;
  name: string;
  role: Role;
  issuer: string;
}

/** What the hub keeps (server-side, or sealed in a cookie) between `begin` and `finish` of one sign-in. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUrl: string;
  /** Epoch milliseconds. */
  createdAt: number;
}

/** How long a person may take at the provider before the callback is refused as `expired`. */
export const PENDING_SIGN_IN_MAX_AGE_MS = 10 * 60_000;

/**
 * One provider's relying party. Create it with `discover` (once, at hub start); then `begin` for each sign-in and
 * `finish` with that sign-in's callback and its PendingSignIn. It holds no per-sign-in state and no timers or sockets.
 */
export class OidcSignIn {
  readonly displayName: string;

  private constructor(
    private readonly config: OidcConfig,
    private readonly provider: client.Configuration,
    private readonly logger: Logger,
  ) {
    this.displayName = config.displayName;
  }

  /**
   * Discovers the issuer (bounded by a timeout, default 10 s, that also bounds each later request to the provider);
   * throws OidcError code PHX_OIDC_DISCOVERY naming the issuer.
   */
  static async discover(config: OidcConfig, logger: Logger, options: { timeoutMs?: number } = {}): Promise<OidcSignIn> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const log = logger.child({ component: 'oidc', issuer: config.issuer });
    let provider: client.Configuration;
    try {
      provider = await client.discovery(new URL(config.issuer), config.clientId, undefined, client.ClientSecretBasic(config.clientSecret), {
        timeout: timeoutMs / 1000,
        execute: config.allowInsecureHttp ? [client.allowInsecureRequests] : [],
      });
    } catch (error) {
      const why = isTimeout(error) ? `no answer within ${timeoutMs} ms` : causeOf(error);
      throw new OidcError('PHX_OIDC_DISCOVERY', `single sign-on: cannot discover the OpenID provider ${showValue(config.issuer)}: ${why}`, undefined, {
        cause: error,
      });
    }
    log.info({ scopes: config.scopes }, 'single sign-on: OpenID provider discovered');
    return new OidcSignIn(config, provider, log);
  }

  /** The authorization URL (code flow + PKCE S256, state, nonce) and what must be kept until the callback. */
  begin(redirectUrl: string): { url: URL; pending: PendingSignIn } {
    const pending: PendingSignIn = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      codeVerifier: client.randomPKCECodeVerifier(),
      redirectUrl,
      createdAt: Date.now(),
    };
    const url = client.buildAuthorizationUrl(this.provider, {
      redirect_uri: redirectUrl,
      scope: this.config.scopes.join(' '),
      state: pending.state,
      nonce: pending.nonce,
      // S256 of the verifier, computed here so that begin() stays synchronous.
      code_challenge: createHash('sha256').update(pending.codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    return { url, pending };
  }

  /**
   * Checks the callback (state, code, ID token: issuer, audience, nonce, expiry, signature) and maps the role claim
   * (from the ID token, else from userinfo) to a role. Throws OidcError code PHX_OIDC_SIGN_IN with a `reason`.
   * Calling rule: use each PendingSignIn for one callback only (drop it before calling); the provider refuses a code
   * used twice anyway.
   */
  async finish(callbackUrl: URL, pending: PendingSignIn): Promise<OidcIdentity> {
    const params = callbackUrl.searchParams;
    if (Date.now() - pending.createdAt > PENDING_SIGN_IN_MAX_AGE_MS) {
      throw this.refuse('expired', `the sign-in was started more than ${PENDING_SIGN_IN_MAX_AGE_MS / 60_000} minutes ago; start again`);
    }
    const providerError = params.get('error');
    if (providerError !== null) {
      const description = params.get('error_description');
      throw this.refuse('provider_error', `the provider answered ${showValue(providerError, 40)}${description ? `: ${showValue(description)}` : ''}`);
    }
    if (params.get('state') !== pending.state) {
      throw this.refuse('state_mismatch', 'the callback does not belong to this sign-in (its state differs); start again');
    }
    // The token request must name the redirect URI sent in begin(), whatever URL the callback reached the hub as.
    const callback = new URL(pending.redirectUrl);
    callback.search = callbackUrl.search;
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(this.provider, callback, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = { ...tokens.claims()! };
      if (claims[this.config.roleClaim] === undefined && this.provider.serverMetadata().userinfo_endpoint !== undefined) {
        claims = { ...(await client.fetchUserInfo(this.provider, tokens.access_token, String(claims.sub))), ...claims };
      }
    } catch (error) {
      // No `cause`: openid-client's errors can carry the ID token (e.g. on a bad signature), and errors get logged.
      throw this.refuse('exchange_failed', `the provider's answer was refused: ${causeOf(error)}`);
    }
    const subject = String(claims.sub);
    const name = [claims[this.config.nameClaim], claims.email, subject].find((v): v is string => typeof v === 'string' && v !== '')!;
    const values = claims[this.config.roleClaim];
    const role = roleForClaim(values, this.config.roles);
    if (role === null) {
      const has = values === undefined ? `no ${this.config.roleClaim} claim` : `${this.config.roleClaim} ${showValue(values)}`;
      throw this.refuse('no_role', `${showValue(name)} has ${has}, which match no role in oidc.roles`, { subject });
    }
    this.logger.info({ subject, name, role }, 'single sign-on: signed in');
    return { subject, name, role, issuer: this.config.issuer };
  }

  private refuse(reason: SignInRefusal, detail: string, fields: Record<string, unknown> = {}): OidcError {
    const message = `single sign-on refused (${reason}): ${detail}`;
    this.logger.warn({ reason, ...fields }, message);
    return new OidcError('PHX_OIDC_SIGN_IN', message, reason);
  }
}

/** The highest role any of the claim's values (a string or a list of strings) maps to, or null for none. */
export function roleForClaim(value: unknown, roles: OidcConfig['roles']): Role | null {
  const values = new Set((Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string'));
  return highestRole(ROLES.filter((role) => roles[role]?.some((mapped) => values.has(mapped))));
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || isTimeout(error.cause));
}

/** The innermost error message worth showing (openid-client wraps the telling one in `cause`), with a system error's code. */
function causeOf(error: unknown): string {
  const messages: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof client.ResponseBodyError) {
      messages.push(`the token endpoint answered ${e.status} ${e.error}${e.error_description ? ` (${e.error_description})` : ''}`);
      break;
    }
    const code = (e as NodeJS.ErrnoException).code;
    messages.push(code !== undefined && !e.message.includes(code) && /^E[A-Z]+$/.test(code) ? `${e.message} (${code})` : e.message);
  }
  return messages.length > 0 ? messages.join(': ') : String(error);
}
