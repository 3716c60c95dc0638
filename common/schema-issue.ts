// One schema issue as a sentence for users: the source, the field's dotted path, what is wrong and the value given.
import type { z } from 'zod';
import { showValue, valueAt } from './errors.js';

export function formatIssue(source: string, issue: z.core.$ZodIssue, raw: unknown): string {
  const field = issue.path.map(String).join('.') || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    const prefix = issue.path.length > 0 ? `${field}.` : '';
    return `${source}: unknown field ${issue.keys.map((k) => `'${prefix}${k}'`).join(', ')}`;
  }
  const value = issue.path.length > 0 ? valueAt(raw, issue.path) : raw;
  const got = value === undefined ? 'nothing' : showValue(value);
  return `${source}: ${field} ${issue.message}, got ${got}`;
}
