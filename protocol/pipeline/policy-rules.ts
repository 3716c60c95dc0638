// Pipeline policy rules by section: which components a pushed pipeline may define, how, and that its pipelines use
// only what it defines. Everything not allowed here is refused.
import type { Node } from 'yaml';
import type { PolicyExpectations } from './policy.js';
import { checkTelemetry } from './policy-telemetry.js';
import { entries, exactly, find, names, onlyKeys, type Entry, type KeyPath, type Report } from './policy-yaml.js';

const SECTIONS = ['extensions', 'receivers', 'processors', 'exporters', 'service'] as const;
const HOST_METRICS = ['host_metrics', 'hostmetrics'];
const SCRAPERS = ['process', 'processes'];
const HEALTH_CHECK_KEYS = ['endpoint', 'response_body', 'check_collector_pipeline'];
const COMPONENT_KINDS = ['receivers', 'processors', 'exporters'] as const;

/** A component id's type: `transform` of `transform/merge`. */
const typeOf = (id: string) => id.split('/')[0]!;

/** Where the host metrics receiver's root_path stands: a file path the agent assigns, checked exactly here. */
export function isRootPath(path: KeyPath): boolean {
  return path.length === 3 && path[0] === 'receivers' && HOST_METRICS.includes(typeOf(String(path[1]))) && path[2] === 'root_path';
}

export function checkSections(root: Node, expect: PolicyExpectations, report: Report): void {
  const top = entries(root, [], report, 'a mapping of sections');
  onlyKeys(top, SECTIONS, report, ' (other sections, such as connectors, could send data elsewhere)');
  const section = (name: string) => entries(find(top, name)?.value, [name], report);
  const defined = {
    receivers: checkReceivers(section('receivers'), expect, report),
    processors: checkProcessors(section('processors'), expect, report),
    exporters: checkExporters(section('exporters'), expect, report),
    extensions: checkExtensions(section('extensions'), expect, report),
  };
  checkService(section('service'), defined, expect, report);
}

type Defined = Record<(typeof COMPONENT_KINDS)[number] | 'extensions', Set<string>>;

/** Reports each component whose type is not in `types`; returns the ids of all, and the allowed ones' entries. */
function components(list: Entry[], types: readonly string[], what: string, why: string, report: Report) {
  const allowed = list.filter((c) => {
    if (types.includes(typeOf(c.key))) return true;
    report(c.keyNode, c.path, `${what} '${c.key}' is not allowed: ${why}`);
    return false;
  });
  return { ids: new Set(list.map((c) => c.key)), allowed };
}

function checkReceivers(list: Entry[], expect: PolicyExpectations, report: Report): Set<string> {
  const { ids, allowed } = components(list, HOST_METRICS, 'receiver', 'only host_metrics (or hostmetrics), which reads process metrics', report);
  for (const receiver of allowed) {
    const config = entries(receiver.value, receiver.path, report);
    const rootPath = find(config, 'root_path');
    if (rootPath !== undefined) {
      exactly(rootPath, receiver, expect.rootPath, report, `root_path must be '${expect.rootPath}' (the agent assigns it) or absent`);
    }
    const scrapers = find(config, 'scrapers');
    if (scrapers !== undefined) onlyKeys(entries(scrapers.value, scrapers.path, report), SCRAPERS, report, ' (process metrics only)');
  }
  return ids;
}

function checkProcessors(list: Entry[], expect: PolicyExpectations, report: Report): Set<string> {
  const why = `this collector's processors are ${expect.processors.join(', ') || 'none'}`;
  return components(list, expect.processors, 'processor', why, report).ids;
}

function checkExporters(list: Entry[], expect: PolicyExpectations, report: Report): Set<string> {
  const why = 'only prometheus, served on 127.0.0.1 for the agent to scrape';
  const { ids, allowed } = components(list, ['prometheus'], 'exporter', why, report);
  for (const exporter of allowed) {
    const config = entries(exporter.value, exporter.path, report);
    endpoint(config, exporter, expect.ports.exporter, report);
    const tls = find(config, 'tls');
    if (tls !== undefined) report(tls.keyNode, tls.path, "'tls' is not allowed: the endpoint is plain HTTP on the loopback (a TLS config names files)");
  }
  return ids;
}

function checkExtensions(list: Entry[], expect: PolicyExpectations, report: Report): Set<string> {
  const { ids, allowed } = components(list, ['health_check'], 'extension', 'only health_check', report);
  for (const extension of allowed) {
    const config = onlyKeys(entries(extension.value, extension.path, report), HEALTH_CHECK_KEYS, report, ' (the agent probes / on the port it assigns)');
    endpoint(config, extension, expect.ports.health, report);
  }
  return ids;
}

function endpoint(config: Entry[], component: Entry, port: number, report: Report): void {
  const expected = `127.0.0.1:${port}`;
  exactly(find(config, 'endpoint'), component, expected, report, `endpoint must be ${expected} (the port the agent assigns)`);
}

function checkService(service: Entry[], defined: Defined, expect: PolicyExpectations, report: Report): void {
  for (const entry of onlyKeys(service, ['extensions', 'pipelines', 'telemetry'], report)) {
    if (entry.key === 'extensions') uses(names(entry.value, entry.path, report), defined.extensions, 'extension', report);
    else if (entry.key === 'telemetry') checkTelemetry(entry, expect, report);
    else checkPipelines(entry, defined, report);
  }
}

function checkPipelines(pipelines: Entry, defined: Defined, report: Report): void {
  for (const pipeline of entries(pipelines.value, pipelines.path, report)) {
    if (typeOf(pipeline.key) !== 'metrics') {
      report(pipeline.keyNode, pipeline.path, `pipeline '${pipeline.key}' is not allowed: only metrics pipelines (metrics or metrics/NAME)`);
      continue;
    }
    for (const kind of onlyKeys(entries(pipeline.value, pipeline.path, report), COMPONENT_KINDS, report)) {
      const key = kind.key as (typeof COMPONENT_KINDS)[number];
      uses(names(kind.value, kind.path, report), defined[key], key.slice(0, -1), report);
    }
  }
}

/** Reports each name used that its section does not define. */
function uses(used: ReturnType<typeof names>, ids: Set<string>, what: string, report: Report): void {
  for (const { name, node, path } of used) {
    if (!ids.has(name)) report(node, path, `${what} '${name}' is used but not defined in ${what}s`);
  }
}
