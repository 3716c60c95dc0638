// Validates the `oidc:` section of the hub's config (single sign-on) and reads the client secret it points to.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, showValue, valueAt } from '../../common/errors.js';
import type { Role } from './roles.js';

/** The path the provider sends people back to; a configured `redirectUrl` must end in it. */
export const OIDC_CALLBACK_PATH = '/auth/oidc/callback';
/** The environment variable holding the client secret when the config names no file. */
export const OIDC_SECRET_ENV = 'PHOENIX_OIDC_CLIENT_SECRET';

export interface OidcConfig {
  /** The provider's issuer identifier, as written in the config. */
  issuer: string;
  /** True for an http:// issuer on a loopback host (a test or a provider beside the hub); https otherwise. */
  allowInsecureHttp: boolean;
  clientId: string;
  /** Never log or print it. */
  clientSecret: string;
  /** The callback URL registered at the provider; when absent the hub derives it from its own URL. */
  redirectUrl?: string;
  scopes: string[];
  /** The ID token (or userinfo) claim whose values map to roles, e.g. `groups`. */
  roleClaim: string;
  /** The claim naming the person; at sign-in it falls back to `email`, then `sub`. */
  nameClaim: string;
  /** Claim values → role; a person whose values match several roles gets the highest. */
  roles: Partial<Record<Role, string[]>>;
  /** The sign-in button's label on the page. */
  displayName: string;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function isIssuer(text: string): boolean {
  const url = parseUrl(text);
  return url?.protocol === 'https:' || (url?.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}

function isRedirectUrl(text: string): boolean {
  const url = parseUrl(text);
  return (url?.protocol === 'https:' || url?.protocol === 'http:') && url.pathname === OIDC_CALLBACK_PATH && url.search === '' && url.hash === '';
}

const text = (what: string) => z.string({ error: `must be ${what}` }).trim().min(1, { error: `must be ${what}` });
const claimValues = z.array(text('a claim value'), { error: 'must be a list of claim values' });

const oidcSchema = z
  .object(
    {
      issuer: z
        .string({ error: 'must be an https:// URL (http:// only on loopback)' })
        .refine(isIssuer, { error: 'must be an https:// URL (http:// only on loopback)' }),
      clientId: text('the client id registered at the provider'),
      /** A file holding the client secret (trimmed); else $PHOENIX_OIDC_CLIENT_SECRET. */
      clientSecretFile: text('a file path').optional(),
      redirectUrl: z
        .string({ error: `must be an absolute URL ending in ${OIDC_CALLBACK_PATH}` })
        .refine(isRedirectUrl, { error: `must be an absolute http(s) URL whose path is ${OIDC_CALLBACK_PATH}, with no query` })
        .optional(),
      scopes: z
        .array(z.string({ error: 'must be a scope name' }).regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: 'must be one scope name, no spaces' }), {
          error: 'must be a list of scope names',
        })
        .refine((scopes) => scopes.includes('openid'), { error: "must include 'openid'" })
        .default(['openid', 'profile', 'email', 'groups']),
      roleClaim: text('a claim name').default('groups'),
      nameClaim: text('a claim name').default('preferred_username'),
      roles: z
        .object(
          { admin: claimValues.optional(), experimenter: claimValues.optional(), viewer: claimValues.optional() },
          { error: 'must map roles (admin, experimenter, viewer) to lists of claim values' },
        )
        .strict()
        .refine((roles) => Object.values(roles).some((values) => values.length > 0), {
          error: 'must map at least one claim value to a role',
        }),
      displayName: text('a label').default('Single sign-on'),
    },
    { error: 'must be a mapping of fields' },
  )
  .strict();

/**
 * Validates the `oidc:` section (`raw`, already parsed from YAML) of the config file `source` and reads the client
 * secret: from `clientSecretFile` (relative to the config file's folder) or from $PHOENIX_OIDC_CLIENT_SECRET, never
 * both. Throws ConfigError naming `source`, the field and the bad value; a secret's value is never in a message.
 */
export function parseOidcConfig(raw: unknown, source: string, env: NodeJS.ProcessEnv): OidcConfig {
  const result = oidcSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(describeIssue(source, result.error.issues[0]!, raw));
  const { clientSecretFile, redirectUrl, ...parsed } = result.data;
  return {
    ...parsed,
    allowInsecureHttp: new URL(parsed.issuer).protocol === 'http:',
    clientSecret: readSecret(clientSecretFile, source, env),
    ...(redirectUrl === undefined ? {} : { redirectUrl }),
  };
}

function readSecret(file: string | undefined, source: string, env: NodeJS.ProcessEnv): string {
  const fromEnv = env[OIDC_SECRET_ENV]?.trim() || undefined;
  if (file !== undefined && fromEnv !== undefined) {
    throw new ConfigError(`${source}: oidc.clientSecretFile and ${OIDC_SECRET_ENV} are both set: keep one, so that it is clear which secret is used`);
  }
  if (file === undefined) {
    if (fromEnv === undefined) throw new ConfigError(`${source}: oidc needs the client secret: set oidc.clientSecretFile or ${OIDC_SECRET_ENV}`);
    return fromEnv;
  }
  const full = path.resolve(path.dirname(path.resolve(source)), file);
  let secret: string;
  try {
    secret = readFileSync(full, 'utf8').trim();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`${source}: oidc.clientSecretFile: cannot read ${showValue(full, 500)} (${reason})`, { cause: error });
  }
  if (secret === '') throw new ConfigError(`${source}: oidc.clientSecretFile ${showValue(full, 500)} is empty: it must hold the client secret`);
  return secret;
}

function describeIssue(source: string, issue: z.core.$ZodIssue, raw: unknown): string {
  const field = ['oidc', ...issue.path.map(String)].join('.');
  if (issue.code === 'unrecognized_keys') {
    // A secret written into the config itself: name the field, never echo its value.
    const hint = issue.keys.includes('clientSecret') ? ` (put the secret in a file named by oidc.clientSecretFile, or in ${OIDC_SECRET_ENV})` : '';
    return `${source}: unknown field ${issue.keys.map((key) => `'${field}.${key}'`).join(', ')}${hint}`;
  }
  return `${source}: ${field} ${issue.message}, got ${showValue(valueAt(raw, issue.path))}`;
}

