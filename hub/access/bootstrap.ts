// The first admin credential. From a file the operator gives (a Kubernetes Secret): that secret is the `admin`
// token. Otherwise, when no admin token exists, the hub makes one and writes it, mode 0600, into its data directory.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HttpRequestError } from '../errors.js';
import type { Access } from './access.js';

export const ADMIN_TOKEN_NAME = 'admin';
export const ADMIN_TOKEN_FILE = 'admin-token';
const HUB_ACTOR = { name: 'hub', role: null, remote: 'local' } as const;

export type AdminBootstrap =
  | { made: 'none' }
  /** The operator's secret is now the `admin` token (`changed`: it replaced another secret or was new). */
  | { made: 'from-secret'; changed: boolean }
  /** A new admin token, whose secret is in `file` only. */
  | { made: 'file'; file: string; name: string };

/**
 * Resolves once the admin token is stored (and its file written). Calling rule: once, at hub start, before serving.
 * Replicas starting together on one database may race to make it: the one that loses looks again (once) and finds
 * the winner's.
 */
export async function ensureAdmin(access: Access, dataDir: string, operatorSecret: string | undefined): Promise<AdminBootstrap> {
  try {
    return await bootstrapOnce(access, dataDir, operatorSecret);
  } catch (error) {
    if (!(error instanceof HttpRequestError && error.status === 409)) throw error;
    return bootstrapOnce(access, dataDir, operatorSecret);
  }
}

async function bootstrapOnce(access: Access, dataDir: string, operatorSecret: string | undefined): Promise<AdminBootstrap> {
  if (operatorSecret !== undefined) {
    if (await access.isSecretOf(ADMIN_TOKEN_NAME, operatorSecret)) return { made: 'from-secret', changed: false };
    const existing = (await access.tokens.list()).find((t) => t.name === ADMIN_TOKEN_NAME);
    if (existing) await access.revokeToken(HUB_ACTOR, ADMIN_TOKEN_NAME);
    await access.createToken(HUB_ACTOR, { name: ADMIN_TOKEN_NAME, role: 'admin' }, operatorSecret);
    return { made: 'from-secret', changed: true };
  }
  const tokens = await access.tokens.list();
  if (tokens.some((t) => t.role === 'admin' && (t.expiresAt === null || t.expiresAt > Date.now()))) return { made: 'none' };
  // The name `admin` may be held by an expired or lesser token: the new one gets a name of its own then.
  const taken = tokens.some((t) => t.name === ADMIN_TOKEN_NAME);
  const name = taken ? `${ADMIN_TOKEN_NAME}-${Date.now()}` : ADMIN_TOKEN_NAME;
  const { secret } = await access.createToken(HUB_ACTOR, { name, role: 'admin' });
  const file = path.join(dataDir, ADMIN_TOKEN_FILE);
  const partial = `${file}.partial`;
  // A new file, made 0600 before the secret is in it (a leftover .partial of looser mode is removed first).
  rmSync(partial, { force: true });
  writeFileSync(partial, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(partial, file);
  return { made: 'file', file, name };
}
