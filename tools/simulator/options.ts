// The process simulator's options: their limits, and the validation that names the first bad one.
import { UsageError, showValue } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';

export const MAX_PROCESSES = 5000;
export const DEFAULT_NAME_PREFIX = 'phx-sim';
/** Churn faster than this would spend the host on fork/exec rather than simulate anything. */
export const MIN_CHURN_EVERY_MS = 10;

export interface SimulatorOptions {
  /** Total processes including critical ones (1..5000). */
  count: number;
  /** Executables named exactly like these are among the count (e.g. ['sshd', 'postgres']). They idle and never churn. */
  criticalNames?: string[];
  /** Default 'phx-sim'; the others are named `${prefix}-0001`…, and `${prefix}-0001-g3` once churn generation 3 replaced them. */
  namePrefix?: string;
  /** How many of the non-critical processes burn CPU (default 0). */
  cpuBurners?: number;
  /** Approximate CPU share per burner, 1..100 (default 100); below 100 burners are cycled with SIGSTOP/SIGCONT every 100 ms. */
  burnDutyPercent?: number;
  /** Every everyMs, replace that fraction (at least one) of the non-critical processes, oldest first, with new ones under new names. */
  churn?: { everyMs: number; fraction: number };
  /** Where to put the executable links; it must exist and is left in place. Default: a fresh temp dir, removed on close. */
  dir?: string;
  logger?: Logger;
  /** Aborting it during startSimulator stops spawning, removes what was made and rejects with its reason; later aborts are ignored (use close()). */
  signal?: AbortSignal;
}

/** How each option is named in validation messages: the option path for library callers, the flag for a CLI. */
export interface OptionLabels {
  count: string;
  criticalNames: string;
  namePrefix: string;
  cpuBurners: string;
  burnDutyPercent: string;
  churnEveryMs: string;
  churnFraction: string;
  dir: string;
}

const OPTION_LABELS: OptionLabels = {
  count: 'count',
  criticalNames: 'criticalNames',
  namePrefix: 'namePrefix',
  cpuBurners: 'cpuBurners',
  burnDutyPercent: 'burnDutyPercent',
  churnEveryMs: 'churn.everyMs',
  churnFraction: 'churn.fraction',
  dir: 'dir',
};

/** Throws a UsageError naming the first bad option (by its label) and its value. */
export function validateSimulatorOptions(options: SimulatorOptions, labels: OptionLabels = OPTION_LABELS): void {
  const fail = (key: keyof OptionLabels, rule: string, value: unknown): never => {
    throw new UsageError(`${labels[key]} ${rule}, got ${showValue(value)}`);
  };
  const { count } = options;
  if (!Number.isInteger(count) || count < 1 || count > MAX_PROCESSES) {
    fail('count', `must be an integer from 1 to ${MAX_PROCESSES}`, count);
  }
  const prefix = options.namePrefix ?? DEFAULT_NAME_PREFIX;
  const prefixProblem = fileNameProblem(prefix);
  if (prefixProblem) fail('namePrefix', prefixProblem, prefix);
  const critical = options.criticalNames ?? [];
  const seen = new Set<string>();
  for (const name of critical) {
    const problem = fileNameProblem(name);
    if (problem) fail('criticalNames', `entries ${problem}`, name);
    if (seen.has(name)) fail('criticalNames', 'must not repeat a name', name);
    if (name.startsWith(`${prefix}-`)) fail('criticalNames', `entries must not start with the generated-name prefix '${prefix}-'`, name);
    seen.add(name);
  }
  if (critical.length > count) fail('criticalNames', `must hold at most count (${count}) names`, critical);
  const nonCritical = count - critical.length;
  const burners = options.cpuBurners ?? 0;
  if (!Number.isInteger(burners) || burners < 0 || burners > nonCritical) {
    fail('cpuBurners', `must be an integer from 0 to ${nonCritical} (the non-critical processes)`, burners);
  }
  const duty = options.burnDutyPercent ?? 100;
  if (!Number.isFinite(duty) || duty <= 0 || duty > 100) fail('burnDutyPercent', 'must be a number above 0 and at most 100', duty);
  if (options.churn) {
    const { everyMs, fraction } = options.churn;
    if (!Number.isInteger(everyMs) || everyMs < MIN_CHURN_EVERY_MS || everyMs > 2 ** 31 - 1) {
      fail('churnEveryMs', `must be an integer of milliseconds from ${MIN_CHURN_EVERY_MS} to ${2 ** 31 - 1}`, everyMs);
    }
    if (!Number.isFinite(fraction) || fraction <= 0 || fraction > 1) fail('churnFraction', 'must be a number above 0 and at most 1', fraction);
    if (nonCritical === 0) fail('churnFraction', 'needs at least one non-critical process to replace (count equals the critical names)', fraction);
  }
  if (options.dir !== undefined && (typeof options.dir !== 'string' || options.dir === '')) fail('dir', 'must be a directory path', options.dir);
}

function fileNameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name === '') return 'must be a non-empty string';
  if (/[/\0]/.test(name)) return "must not contain '/' or NUL";
  // Dot names are reserved for the simulator's own templates (and '.'/'..').
  if (name.startsWith('.')) return "must not start with '.'";
  if (Buffer.byteLength(name) > 200) return 'must be at most 200 bytes';
  return undefined;
}
