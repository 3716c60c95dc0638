// Closing a component of several parts: every part is tried, in order, and every failure is reported.
import { PhoenixError } from './errors.js';

export interface ClosablePart {
  /** Named in the error when its close fails. */
  name: string;
  close(): unknown;
}

/** One or more parts failed to close; `failures` holds each part's name and its error. */
export class CloseError extends PhoenixError {
  readonly failures: readonly { part: string; error: unknown }[];
  constructor(component: string, failures: { part: string; error: unknown }[]) {
    const list = failures.map((f) => `${f.part}: ${(f.error as Error)?.message ?? String(f.error)}`).join('; ');
    super('PHX_CLOSE_FAILED', `${component}: ${failures.length} part(s) failed to close (${list})`, 1, { cause: failures[0]?.error });
    this.failures = failures;
  }
}

/**
 * Closes `parts` one after another (awaiting each, so the order is the reverse of opening when the caller
 * lists them so); a failure does not skip the parts after it. Rejects with CloseError naming every failure.
 */
export async function closeAll(component: string, parts: readonly (ClosablePart | null | undefined)[]): Promise<void> {
  const failures: { part: string; error: unknown }[] = [];
  for (const part of parts) {
    if (!part) continue;
    try {
      await part.close();
    } catch (error) {
      failures.push({ part: part.name, error });
    }
  }
  if (failures.length > 0) throw new CloseError(component, failures);
}

/** Closes `parts` all at once (when each may take long, e.g. a child's grace period); rejects like closeAll. */
export async function closeAllAtOnce(component: string, parts: readonly (ClosablePart | null | undefined)[]): Promise<void> {
  const present = parts.filter((p): p is ClosablePart => !!p);
  const results = await Promise.allSettled(present.map(async (part) => part.close()));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [{ part: present[i]!.name, error: r.reason as unknown }] : []));
  if (failures.length > 0) throw new CloseError(component, failures);
}
