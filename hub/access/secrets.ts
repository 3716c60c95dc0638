// The hub's secrets: how they are made (256 random bits, with a prefix naming their kind) and how they are kept
// (only their sha256 — a random secret of that size needs no slow hash). Comparing hashes found by an index
// lookup leaks nothing an attacker could use: the secret's hash, not the secret, is what the lookup is keyed on.
import { createHash, randomBytes } from 'node:crypto';

/** The prefixes: `phx_t_` an API token, `phx_s_` a session id, `phx_c_` a one-time sign-in code, `phx_x_` a CSRF token. */
export type SecretKind = 't' | 's' | 'c' | 'x';

export function newSecret(kind: SecretKind): string {
  return `phx_${kind}_${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** True when `value` has the shape of a secret of `kind` (checked before any lookup; bounds what is hashed). */
export function looksLike(kind: SecretKind, value: string): boolean {
  return value.length === 49 && value.startsWith(`phx_${kind}_`) && /^[A-Za-z0-9_-]+$/.test(value.slice(6));
}
