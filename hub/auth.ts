// Agent authentication: bearer tokens from a file (several at once, for rotation), compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';

const MIN_TOKEN_LENGTH = 16;
const digest = (token: string) => createHash('sha256').update(token).digest();

/** Parses a token file: one token a line; blank lines and `#` comments ignored. Throws ConfigError naming the line. */
export function parseTokens(text: string, source: string): string[] {
  const tokens: string[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.length < MIN_TOKEN_LENGTH || /\s/.test(line)) {
      throw new ConfigError(`${source}:${index + 1}: a token must be at least ${MIN_TOKEN_LENGTH} characters without spaces`);
    }
    tokens.push(line);
  });
  if (tokens.length === 0) throw new ConfigError(`${source}: no tokens (one per line; lines starting with # are comments)`);
  return tokens;
}

/**
 * The set of valid tokens. With a file, it is re-read when the file changes (checked at most once a
 * second), so rotating means: add the new token, move agents over, remove the old one.
 */
export class TokenSet {
  readonly #file: string | null;
  #digests: Buffer[];
  #mtimeMs = 0;
  #checkedAt = 0;

  private constructor(file: string | null, tokens: string[]) {
    this.#file = file;
    this.#digests = tokens.map(digest);
  }

  static fromTokens(tokens: string[]): TokenSet {
    return new TokenSet(null, tokens);
  }

  static fromFile(file: string): TokenSet {
    const set = new TokenSet(file, []);
    set.#reload(true);
    return set;
  }

  #reload(strict: boolean): void {
    if (this.#file === null) return;
    try {
      const { mtimeMs } = statSync(this.#file);
      if (mtimeMs === this.#mtimeMs) return;
      this.#digests = parseTokens(readFileSync(this.#file, 'utf8'), this.#file).map(digest);
      this.#mtimeMs = mtimeMs;
    } catch (error) {
      if (strict) throw error instanceof ConfigError ? error : new ConfigError(`${this.#file}: cannot read token file (${(error as NodeJS.ErrnoException).code ?? error})`);
      // A broken edit keeps the previous tokens rather than locking every agent out.
    }
  }

  /** True when `presented` equals one of the tokens. Every token is compared, so timing says nothing. */
  verify(presented: string | undefined): boolean {
    const now = Date.now();
    if (now - this.#checkedAt >= 1000) {
      this.#checkedAt = now;
      this.#reload(false);
    }
    if (!presented) return false;
    const candidate = digest(presented);
    let ok = false;
    for (const d of this.#digests) ok = timingSafeEqual(candidate, d) || ok;
    return ok;
  }
}

/** The token from an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
