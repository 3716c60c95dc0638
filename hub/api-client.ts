// A running hub's API as the command line uses it: where it is, the token to send, and each answer or refusal.
import { readFileSync } from 'node:fs';
import { PhoenixError, UsageError } from '../common/errors.js';

/** The hub answered a request with an error (its status and message), or could not be reached. */
export class HubApiError extends PhoenixError {
  readonly status: number | null;
  constructor(message: string, status: number | null) {
    // A refusal of what the user sent (4xx) is a usage error (2); an unreachable or failing hub is 1.
    super('PHX_HUB_API', message, status !== null && status >= 400 && status < 500 ? 2 : 1);
    this.status = status;
  }
}

export interface HubApiTarget {
  /** The hub's base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  token: string;
}

/** Where the hub is (flag, $PHOENIX_HUB_URL, the default) and the API token (file flag, $PHOENIX_API_TOKEN). */
export function hubApiTarget(flags: { hub?: string; apiTokenFile?: string }, env: NodeJS.ProcessEnv): HubApiTarget {
  const url = flags.hub ?? env.PHOENIX_HUB_URL ?? 'http://127.0.0.1:8080';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--hub must be the hub's URL such as http://127.0.0.1:8080, got '${url.slice(0, 80)}'`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--hub must be an http:// or https:// URL, got '${url.slice(0, 80)}'`);
  let token = env.PHOENIX_API_TOKEN?.trim() ?? '';
  if (flags.apiTokenFile !== undefined) {
    try {
      token = readFileSync(flags.apiTokenFile, 'utf8').trim();
    } catch (error) {
      throw new UsageError(`--api-token-file: cannot read '${flags.apiTokenFile}' (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
  }
  if (!/^\S{16,512}$/.test(token)) {
    throw new UsageError('an API token is needed: --api-token-file FILE or $PHOENIX_API_TOKEN (phoenix-hub token create makes one)');
  }
  return { url: parsed.origin + parsed.pathname.replace(/\/+$/, ''), token };
}

/** One API request; resolves with the JSON answer, rejects with HubApiError naming the hub's message. */
export async function callHub<T>(target: HubApiTarget, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${target.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new HubApiError(`cannot reach the hub at ${target.url} (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`, null);
  }
  const text = await response.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new HubApiError(`the hub at ${target.url} answered ${method} ${path} with ${response.status} and no JSON`, response.status);
  }
  if (!response.ok) {
    const message = (answer as { message?: unknown }).message;
    throw new HubApiError(`the hub refused ${method} ${path} (${response.status}): ${typeof message === 'string' ? message : text.slice(0, 200)}`, response.status);
  }
  return answer as T;
}
