// How many of the host's top consumers a variant still shows under their own name.
import type { HostProcess } from '../host-processes.js';
import type { TopCoverage } from '../../../protocol/report.js';
import { showsName, type VariantView } from '../variant-view.js';

export function topCoverage(ranked: readonly HostProcess[], view: VariantView): TopCoverage {
  const missing = ranked.filter((p) => !showsName(view, p));
  return { ranked: ranked.length, visible: ranked.length - missing.length, missing: [...new Set(missing.map((p) => p.name))] };
}
