// What a variant's output shows of the host's processes, from the label values its scrape collected.
import type { ProcessIdentity } from './process-identity.js';

/** The labels the Prometheus exporter makes of the process resource attributes. */
export const NAME_LABEL = 'process_executable_name';
export const PATH_LABEL = 'process_executable_path';
export const PID_LABEL = 'process_pid';
/** The labels a variant's scrape collects the values of. */
export const VIEW_LABELS = [NAME_LABEL, PATH_LABEL, PID_LABEL] as const;

export interface VariantView {
  /** Names the collector reported, and the file names of the executables' paths. */
  names: ReadonlySet<string>;
  /** Null when the variant has no pid label (a roll-up): it cannot tell one process of a name from another. */
  pids: ReadonlySet<number> | null;
}

export function variantView(labelValues: Record<string, readonly string[]>): VariantView {
  const names = new Set(labelValues[NAME_LABEL] ?? []);
  for (const p of labelValues[PATH_LABEL] ?? []) names.add(p.slice(p.lastIndexOf('/') + 1));
  const pidValues = labelValues[PID_LABEL] ?? [];
  return { names, pids: pidValues.length === 0 ? null : new Set(pidValues.map(Number).filter(Number.isInteger)) };
}

/** Shown under its own name: by the name the collector reports, or its executable's file name (as critical matching). */
export function showsName(view: VariantView, p: ProcessIdentity): boolean {
  return view.names.has(p.name) || (p.exeBase !== null && view.names.has(p.exeBase));
}
