// Decides which of the host's processes are critical, and which of those a variant's output still shows.
import { criticalRegex } from '../../protocol/pipeline/render.js';
import type { ProcessIdentity } from './process-identity.js';
import { variantView } from './variant-view.js';

export interface Retention {
  /** Share of running critical processes visible in the output; null when none runs. */
  ratio: number | null;
  visible: string[];
  missing: string[];
}

export class CriticalMatcher {
  readonly patterns: readonly string[];
  readonly #regex: RegExp;

  constructor(patterns: readonly string[]) {
    this.patterns = patterns;
    this.#regex = new RegExp(criticalRegex(patterns));
  }

  matches(name: string): boolean {
    return this.#regex.test(name);
  }

  /**
   * The critical processes running, by the name the collector will report. A process counts when its
   * name or its executable's file name matches (the latter catches names the 15-character limit hid).
   */
  running(processes: Iterable<ProcessIdentity>): string[] {
    const names = new Set<string>();
    for (const p of processes) {
      if (this.matches(p.name) || (p.exeBase !== null && this.matches(p.exeBase))) names.add(p.name);
    }
    return [...names].sort();
  }

  /** Which running critical names appear in a variant's output (by name label, or by path label's file name). */
  retention(running: readonly string[], labelValues: Record<string, readonly string[]>): Retention {
    const seen = variantView(labelValues).names;
    const visible = running.filter((name) => seen.has(name));
    const missing = running.filter((name) => !seen.has(name));
    return { ratio: running.length === 0 ? null : visible.length / running.length, visible, missing };
  }
}
