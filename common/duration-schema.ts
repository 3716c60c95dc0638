// A duration field for zod schemas: text such as '15s' or '2m' in, milliseconds out, within bounds, with messages
// that say what the duration is for. Shared by the agent's config file and the hub's experiment definitions.
import { z } from 'zod';
import { parseDuration } from './duration.js';

export function durationField(what: string, minMs: number, maxMs: number) {
  return z.string({ error: `must be a duration such as '15s' or '2m' (${what})` }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `must be a duration such as '15s' or '2m' (${what})` });
      return z.NEVER;
    }
    if (ms < minMs || ms > maxMs) {
      ctx.addIssue({ code: 'custom', message: `must be between ${minMs} ms and ${maxMs} ms (${what})` });
      return z.NEVER;
    }
    return ms;
  });
}
