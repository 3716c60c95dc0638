// A zod record that keeps every own key of its input, `__proto__` included. zod's own z.record skips a key named
// `__proto__` without a word, so a label or metric of that name would vanish between the agent and the hub.
import { z } from 'zod';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A JSON object of `key: value` entries with at most `maxKeys` keys. The result is built with
 * Object.fromEntries, so `__proto__` becomes an ordinary own property and nothing reaches a prototype.
 */
export function ownRecord<K extends z.ZodType<string>, V extends z.ZodType>(key: K, value: V, maxKeys: number, what: string) {
  return z
    .preprocess((input) => (isPlainObject(input) ? new Map(Object.entries(input)) : input), z.map(key, value, { error: 'expected an object' }))
    .refine((entries) => entries.size <= maxKeys, { error: `must have at most ${maxKeys} ${what}` })
    .transform((entries) => Object.fromEntries(entries) as Record<z.output<K>, z.output<V>>);
}
