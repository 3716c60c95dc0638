// A seeded, realistic exposition for the parser benchmark: hostmetrics' process scraper as the collector's
// Prometheus exporter writes it (families in name order, labels sorted, long escaped command lines).
import { open } from 'node:fs/promises';

export interface ExpositionFixture {
  series: number;
  /** Processes described (each gives up to SERIES_PER_PROCESS series). */
  processes: number;
  bytes: number;
}

interface Family {
  name: string;
  type: 'counter' | 'gauge';
  help: string;
  /** The data point attribute and its values (one series each), if the metric has one. */
  attribute?: { name: string; values: readonly string[] };
  value: (rng: () => number) => number;
}

// hostmetrics' process scraper metrics, named as the Prometheus exporter names them (unit and _total suffixes).
const FAMILIES: readonly Family[] = [
  { name: 'process_context_switches_total', type: 'counter', help: 'Number of times the process has been context switched.', attribute: { name: 'type', values: ['involuntary', 'voluntary'] }, value: (r) => Math.floor(r() * 5e6) },
  { name: 'process_cpu_time_seconds_total', type: 'counter', help: 'Total CPU seconds broken down by different states.', attribute: { name: 'state', values: ['system', 'user', 'wait'] }, value: (r) => Math.round(r() * 1e6) / 100 },
  { name: 'process_disk_io_bytes_total', type: 'counter', help: 'Disk bytes transferred.', attribute: { name: 'direction', values: ['read', 'write'] }, value: (r) => Math.floor(r() ** 3 * 5e10) },
  { name: 'process_disk_operations_total', type: 'counter', help: 'Number of disk operations performed by the process.', attribute: { name: 'direction', values: ['read', 'write'] }, value: (r) => Math.floor(r() ** 3 * 1e8) },
  { name: 'process_memory_usage_bytes', type: 'gauge', help: 'The amount of physical memory in use.', value: (r) => 4096 * Math.floor(r() ** 2 * 2e6) },
  { name: 'process_memory_virtual_bytes', type: 'gauge', help: 'Virtual memory size.', value: (r) => 4096 * Math.floor(r() * 2e7) },
  { name: 'process_open_file_descriptors', type: 'gauge', help: 'Number of file descriptors in use by the process.', value: (r) => Math.floor(r() ** 4 * 4000) },
  { name: 'process_paging_faults_total', type: 'counter', help: 'Number of page faults the process has made.', attribute: { name: 'type', values: ['major', 'minor'] }, value: (r) => Math.floor(r() ** 2 * 1e7) },
  { name: 'process_threads', type: 'gauge', help: 'Process threads count.', value: (r) => 1 + Math.floor(r() ** 4 * 500) },
];
export const SERIES_PER_PROCESS = FAMILIES.reduce((n, f) => n + (f.attribute?.values.length ?? 1), 0);

/** Processes per host: a busy node's worth. */
const PROCESSES_PER_HOST = 250;
const OWNERS = ['root', 'root', 'root', 'postgres', 'www-data', 'app', 'ubuntu', 'nobody', 'systemd-network', 'elasticsearch'];

/** Executables and how their command lines look (before escaping: real quotes, backslashes and newlines). */
const PROGRAMS: readonly { exe: string; path: string; args: (r: () => number) => string }[] = [
  {
    exe: 'java',
    path: '/usr/lib/jvm/java-17-openjdk-amd64/bin/java',
    args: (r) =>
      `-Xms${pick(r, ['512m', '1g', '4g'])} -Xmx${pick(r, ['2g', '8g', '16g'])} -XX:+UseG1GC -Dlog4j.configurationFile=/etc/app/log4j2.xml ` +
      `"-Dlogging.pattern.console=%d{ISO8601} %-5p [%t] %c{1}: %m%n" -Dfile.encoding=UTF-8 -cp /opt/app/lib/*:/opt/app/conf ` +
      `com.example.${pick(r, ['orders', 'billing', 'search', 'gateway'])}.Main --spring.profiles.active=prod --server.port=${8000 + int(r, 1000)}`,
  },
  {
    exe: 'python3',
    path: '/usr/bin/python3.11',
    args: (r) =>
      `-c "import sys, json; print(json.dumps({\\"worker\\": ${int(r, 64)}, \\"argv\\": sys.argv}))\nimport runpy; runpy.run_module('celery')" ` +
      `worker --app=tasks.app --concurrency=${1 + int(r, 16)} --loglevel=INFO --hostname=worker${int(r, 99)}@%h --queues=default,${pick(r, ['mail', 'reports', 'imports'])}`,
  },
  {
    exe: 'node',
    path: '/usr/local/bin/node',
    args: (r) =>
      `--max-old-space-size=${pick(r, ['512', '2048', '4096'])} --enable-source-maps /srv/app/dist/server.js --config "/srv/app/config/${pick(r, ['prod', 'staging'])}.json" ` +
      `--banner "ready\\nlistening" --port ${3000 + int(r, 100)}`,
  },
  {
    exe: 'postgres',
    path: '/usr/lib/postgresql/15/bin/postgres',
    args: (r) =>
      `-D /var/lib/postgresql/15/main -c config_file=/etc/postgresql/15/main/postgresql.conf -c "log_line_prefix=%m [%p] %q%u@%d " ` +
      `-c search_path="\\"$user\\", public" -c shared_buffers=${pick(r, ['128MB', '2GB', '8GB'])}`,
  },
  {
    exe: 'bash',
    path: '/usr/bin/bash',
    args: (r) =>
      `-c "while true; do printf \\"%s\\n\\" \\"$(date -Is) tick ${int(r, 1000)}\\"; sleep ${1 + int(r, 30)}; done\n# keepalive" ` +
      `--rcfile /home/app/.bashrc`,
  },
  {
    exe: 'containerd-shim-runc-v2',
    path: '/usr/bin/containerd-shim-runc-v2',
    args: (r) => `-namespace k8s.io -id ${hex(r, 64)} -address /run/containerd/containerd.sock`,
  },
  {
    exe: 'wine64-preloader',
    path: '/opt/wine-stable/bin/wine64-preloader',
    args: (r) => `"C:\\Program Files\\Vendor Tools\\agent.exe" /config "C:\\ProgramData\\Vendor\\agent ${int(r, 9)}.ini" /log "D:\\logs\\agent.log"`,
  },
  {
    exe: 'otelcol-contrib',
    path: '/usr/bin/otelcol-contrib',
    args: (r) => `--config=/etc/otelcol-contrib/config.yaml --set=service.telemetry.metrics.address=0.0.0.0:${8800 + int(r, 100)} "--feature-gates=-pkg.translator.prometheus.NormalizeName"`,
  },
];

/**
 * The exposition's text in pieces of about 1 MiB: `series` distinct series (exactly), families in name
 * order with `# HELP`/`# TYPE`, each family giving one series per process and attribute value until the
 * count is reached. The same seed gives the same text.
 */
export function* processExposition(series: number, seed: number): Generator<string> {
  const processes = Math.ceil(series / SERIES_PER_PROCESS);
  const table = processLabels(processes, mulberry32(seed));
  const rng = mulberry32(seed ^ 0x5bd1e995);
  let left = series;
  let out = '';
  for (const family of FAMILIES) {
    if (left === 0) break;
    out += `# HELP ${family.name} ${family.help}\n# TYPE ${family.name} ${family.type}\n`;
    const attribute = family.attribute;
    for (let i = 0; i < processes && left > 0; i++) {
      const own = table[i]!;
      for (const value of attribute?.values ?? ['']) {
        if (left === 0) break;
        left--;
        // Labels sorted by name, as client_golang writes them: `direction` before host_name, `state`/`type` last.
        const labels = attribute === undefined ? own : attribute.name < 'host_name' ? `${attribute.name}="${value}",${own}` : `${own},${attribute.name}="${value}"`;
        out += `${family.name}{${labels}} ${goFloat(family.value(rng))}\n`;
        if (out.length >= 1 << 20) {
          yield out;
          out = '';
        }
      }
    }
  }
  if (out !== '') yield out;
}

/** Writes processExposition(series, seed) to `file`. */
export async function writeProcessExposition(file: string, series: number, seed: number): Promise<ExpositionFixture> {
  const handle = await open(file, 'w');
  let bytes = 0;
  try {
    for (const piece of processExposition(series, seed)) {
      const buf = Buffer.from(piece, 'utf8');
      await handle.write(buf);
      bytes += buf.length;
    }
  } finally {
    await handle.close();
  }
  return { series, processes: Math.ceil(series / SERIES_PER_PROCESS), bytes };
}

/** Each process's labels, sorted by name (a data point attribute sorts before all, direction, or after all, state and type). */
function processLabels(processes: number, rng: () => number): string[] {
  const table: string[] = [];
  let host = '';
  let instance = '';
  for (let i = 0; i < processes; i++) {
    if (i % PROCESSES_PER_HOST === 0) {
      const h = i / PROCESSES_PER_HOST;
      host = `ip-10-${(h >> 8) & 255}-${h & 255}-${int(rng, 254) + 1}.eu-west-1.compute.internal`;
      instance = uuid(rng);
    }
    const program = PROGRAMS[int(rng, PROGRAMS.length)]!;
    const pid = 2 + int(rng, 4_194_000);
    const ppid = rng() < 0.4 ? 1 : 2 + int(rng, 4_194_000);
    const command = rng() < 0.5 ? program.exe : program.path;
    const commandLine = escapeValue(fitLength(`${command} ${program.args(rng)}`, 100 + int(rng, 301), rng));
    const labels =
      `host_name="${host}",job="otelcol-contrib",process_command="${escapeValue(command)}",process_command_line="${commandLine}",` +
      `process_executable_name="${program.exe}",process_executable_path="${program.path}",process_owner="${pick(rng, OWNERS)}",` +
      `process_parent_pid="${ppid}",process_pid="${pid}",service_instance_id="${instance}"`;
    table.push(labels);
  }
  return table;
}

/** More arguments of the kinds real command lines carry, to reach a drawn length. */
const EXTRA_ARGS: readonly ((r: () => number) => string)[] = [
  (r) => `--label="team=${pick(r, ['payments', 'search', 'platform', 'data'])}"`,
  (r) => `-Dapp.instance=${int(r, 64)}`,
  (r) => `--data-dir=/var/lib/app/shard-${int(r, 1000)}`,
  (r) => `--log-format "{\\"level\\":\\"info\\",\\"n\\":${int(r, 100)}}"`,
  (r) => `--include C:\\shares\\build-${int(r, 100)}\\*.dll`,
  (r) => `--peer=10.${int(r, 256)}.${int(r, 256)}.${int(r, 256)}:${1024 + int(r, 60000)}`,
];

/** Cuts or extends (with more arguments) a raw command line to `length` characters. */
function fitLength(line: string, length: number, rng: () => number): string {
  while (line.length < length) line += ` ${pick(rng, EXTRA_ARGS)(rng)}`;
  return line.slice(0, length);
}

/** The text format's label value escaping. */
function escapeValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A number as Go's strconv.FormatFloat(v, 'g', -1, 64) spells it (what expfmt writes): 1234.5, 1.2345678e+08. */
function goFloat(v: number): string {
  const [digits, exp] = v.toExponential().split('e') as [string, string];
  const e = Number(exp);
  // Go's shortest 'g': the exponent form when the decimal exponent is < -4 or >= 6.
  if (e < -4 || e >= 6) return `${digits}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(v);
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function int(rng: () => number, below: number): number {
  return Math.floor(rng() * below);
}

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[int(rng, items.length)]!;
}

function hex(rng: () => number, length: number): string {
  let s = '';
  while (s.length < length) s += int(rng, 16).toString(16);
  return s;
}

function uuid(rng: () => number): string {
  const h = hex(rng, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}
