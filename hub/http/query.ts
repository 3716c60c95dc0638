// Validates the API's query parameters; a bad one is a 400 naming the parameter and the value.
import { parseDuration } from '../../common/duration.js';
import type { GroupBy } from '../compare.js';
import { BadRequestError } from '../errors.js';

const MIN_WINDOW = 60_000;
const MAX_WINDOW = 35 * 86_400_000;

export function windowParam(url: URL, fallback = '1h'): number {
  const raw = url.searchParams.get('window') ?? fallback;
  const ms = parseDuration(raw);
  if (ms === null || ms < MIN_WINDOW || ms > MAX_WINDOW) {
    throw new BadRequestError(`window must be a duration from 1m to 35d such as '15m', '1h' or '7d', got '${raw.slice(0, 40)}'`);
  }
  return ms;
}

export function groupByParam(url: URL): GroupBy {
  const raw = url.searchParams.get('groupBy') ?? 'none';
  if (raw === 'none') return { kind: 'none' };
  if (raw === 'kind') return { kind: 'kind' };
  const label = /^label:([A-Za-z_][A-Za-z0-9_.-]{0,62})$/.exec(raw);
  if (label) return { kind: 'label', name: label[1]! };
  throw new BadRequestError(`groupBy must be 'none', 'kind' or 'label:<name>', got '${raw.slice(0, 40)}'`);
}

/** Rejects parameters the endpoint does not know, so a typo is not silently ignored. */
export function onlyParams(url: URL, allowed: readonly string[]): void {
  const seen = new Set<string>();
  for (const key of url.searchParams.keys()) {
    if (seen.has(key)) throw new BadRequestError(`query parameter '${key.slice(0, 40)}' given more than once`);
    seen.add(key);
    if (!allowed.includes(key)) throw new BadRequestError(`unknown query parameter '${key.slice(0, 40)}'; this endpoint takes ${allowed.map((a) => `'${a}'`).join(', ') || 'none'}`);
  }
}

/** A whole-number parameter within [min, max], or `fallback` when absent. */
export function intParam(url: URL, name: string, fallback: number, min: number, max: number): number {
  const text = url.searchParams.get(name);
  if (text === null) return fallback;
  const n = Number(text);
  if (!/^\d{1,16}$/.test(text) || n < min || n > max) throw new BadRequestError(`${name} must be a whole number ${min}-${max}, got '${text.slice(0, 40)}'`);
  return n;
}
