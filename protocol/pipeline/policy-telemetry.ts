// Pipeline policy rules for service.telemetry: logs stay on the collector's stderr, its own metrics are only served
// for the agent to pull on the loopback port it assigns, and nothing is traced or pushed anywhere.
import { isSeq } from 'yaml';
import type { PolicyExpectations } from './policy.js';
import { entries, exactly, find, onlyKeys, type Entry, type Report } from './policy-yaml.js';

const TELEMETRY_KEYS = ['resource', 'logs', 'metrics'];
const LOG_KEYS = ['level', 'encoding'];
const METRICS_KEYS = ['level', 'readers'];
/** Options of the pull exporter that only shape its output. */
const PULL_PROMETHEUS_KEYS = ['host', 'port', 'without_scope_info', 'without_units', 'without_type_suffix', 'translation_strategy'];

export function checkTelemetry(telemetry: Entry, expect: PolicyExpectations, report: Report): void {
  const parts = entries(telemetry.value, telemetry.path, report);
  for (const part of onlyKeys(parts, TELEMETRY_KEYS, report, ' (the collector may not trace or push its telemetry)')) {
    if (part.key === 'logs') onlyKeys(entries(part.value, part.path, report), LOG_KEYS, report, ' (logs go to stderr, never to a file)');
    if (part.key === 'metrics') checkMetrics(part, expect, report);
  }
}

function checkMetrics(metrics: Entry, expect: PolicyExpectations, report: Report): void {
  const readers = find(onlyKeys(entries(metrics.value, metrics.path, report), METRICS_KEYS, report), 'readers');
  if (readers === undefined || readers.value === null) return;
  if (!isSeq(readers.value)) {
    report(readers.value, readers.path, 'must be a list of readers');
    return;
  }
  readers.value.items.forEach((item, i) => {
    const reader: Entry = { key: String(i), keyNode: item as Entry['keyNode'], value: item as Entry['value'], path: [...readers.path, i] };
    const prometheus = descend(reader, ['pull', 'exporter', 'prometheus'], report);
    if (prometheus === null) return;
    const config = onlyKeys(entries(prometheus.value, prometheus.path, report), PULL_PROMETHEUS_KEYS, report);
    exactly(find(config, 'host'), prometheus, '127.0.0.1', report, 'host must be 127.0.0.1');
    const port = expect.ports.telemetry;
    exactly(find(config, 'port'), prometheus, port, report, `port must be ${port} (the telemetry port the agent assigns)`);
  });
}

/** Follows a chain of single-key mappings (`pull: {exporter: {prometheus: …}}`), reporting any other key or a gap. */
function descend(from: Entry, chain: readonly string[], report: Report): Entry | null {
  let at = from;
  for (const key of chain) {
    const list = entries(at.value, at.path, report);
    const next = find(onlyKeys(list, [key], report, ' (a telemetry reader may only be pull → exporter → prometheus)'), key);
    if (next === undefined) {
      // Another key was reported just now; an empty mapping is reported here.
      if (list.length === 0) report(at.keyNode, at.path, `must have '${key}': a telemetry reader may only be pull → exporter → prometheus`);
      return null;
    }
    at = next;
  }
  return at;
}
