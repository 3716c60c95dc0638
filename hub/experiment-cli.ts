// `phoenix-hub experiment create|list|show|stop` and `phoenix-hub pipeline upload|list|show|delete`: a running hub's
// experiments and pipeline catalog, through its API with an API token (experimenters write, viewers read).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Writable } from 'node:stream';
import { UsageError } from '../common/errors.js';
import { callHub, hubApiTarget } from './api-client.js';
import type { ExperimentDetail, ExperimentListResponse, ExperimentResponse, PipelineListResponse, PipelineResponse } from './http/experiment-types.js';

export interface ApiCliIo {
  stdout: Writable;
  env: NodeJS.ProcessEnv;
}

type ApiFlags = { hub?: string; apiTokenFile?: string; json?: boolean };

function readInput(flag: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read '${file}' (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

const withApi = (command: Command) =>
  command
    .option('--hub <url>', "the hub's URL (default $PHOENIX_HUB_URL, else http://127.0.0.1:8080)")
    .option('--api-token-file <file>', 'a file holding your API token (default $PHOENIX_API_TOKEN)');

/** What `experiment show` prints: state, verdict, criteria with their figures, hosts by state, the latest events. */
export function describeExperiment(e: ExperimentDetail): string {
  const lines = [
    `${e.id}  ${e.name}  ${e.state}${e.state === 'running' ? '' : ` (${e.verdict})`}`,
    `  baseline ${e.baseline.pipeline}@${e.baseline.sha256.slice(0, 12)}  candidate ${e.candidate.pipeline}@${e.candidate.sha256.slice(0, 12)}`,
    `  target ${e.target}: ${e.hosts} host${e.hosts === 1 ? '' : 's'}; waves ${e.waves.started} of ${e.waves.total} started`,
    `  verdict: ${e.results.summary}`,
    ...e.results.criteria.map((c) => `    ${c.met === null ? '?' : c.met ? 'met' : 'NOT met'}  ${c.name} ${c.wanted}: ${c.shown}`),
    `  hosts: ${Object.entries(e.hostStates).map(([state, n]) => `${n} ${state}`).join(', ') || 'none'}`,
    ...e.hostList.filter((h) => h.message).slice(0, 10).map((h) => `    ${h.hostId} ${h.state}: ${h.message}`),
    ...(e.passed ? [`  passed: ${e.passed.pipeline}@sha256:${e.passed.sha256}`] : []),
    '  events:',
    ...e.events.slice(-10).map((ev) => `    ${ev.at} ${ev.kind}${ev.hostId ? ` ${ev.hostId}` : ''}${ev.actor ? ` by ${ev.actor}` : ''}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** The `experiment` and `pipeline` commands; `schedule` receives what to run once the arguments are parsed. */
export function addExperimentCommands(program: Command, io: ApiCliIo, schedule: (job: () => Promise<number>) => void): void {
  const run = (flags: ApiFlags, job: (target: ReturnType<typeof hubApiTarget>) => Promise<string>) =>
    schedule(async () => {
      io.stdout.write(await job(hubApiTarget(flags, io.env)));
      return 0;
    });
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

  const experiment = program.command('experiment').description("a running hub's experiments (experimenters create and stop, viewers read)");
  withApi(experiment.command('create'))
    .description('define an experiment from a YAML or JSON file and start it (its first wave is assigned at once)')
    .requiredOption('-f, --file <file>', 'the definition (YAML or JSON)')
    .option('--draft', 'keep it as a draft; start it later from the page or the API')
    .option('--json', 'print the experiment as JSON')
    .action((flags: ApiFlags & { file: string; draft?: boolean }) =>
      run(flags, async (target) => {
        const definition = readInput('--file', flags.file);
        const { experiment: e } = await callHub<ExperimentResponse>(target, 'POST', '/api/v1/experiments', { definition, start: flags.draft !== true });
        return flags.json ? json(e) : `experiment ${e.id} (${e.name}) ${e.state}: ${e.hosts} host${e.hosts === 1 ? '' : 's'} targeted, ${e.waves.total} wave${e.waves.total === 1 ? '' : 's'}\n`;
      }),
    );
  withApi(experiment.command('list'))
    .description('list the experiments: state, verdict, target, progress')
    .option('--json', 'as JSON')
    .action((flags: ApiFlags) =>
      run(flags, async (target) => {
        const { experiments } = await callHub<ExperimentListResponse>(target, 'GET', '/api/v1/experiments');
        if (flags.json) return json(experiments);
        return table([
          ['ID', 'NAME', 'STATE', 'VERDICT', 'HOSTS', 'WAVES', 'TARGET'],
          ...experiments.map((e) => [e.id, e.name, e.state, e.verdict, String(e.hosts), `${e.waves.started}/${e.waves.total}`, e.target]),
        ]);
      }),
    );
  withApi(experiment.command('show'))
    .description('one experiment: criteria met or not with the figures, hosts, waves, events')
    .argument('<id>', "the experiment's id")
    .option('--json', 'as JSON')
    .action((id: string, flags: ApiFlags) =>
      run(flags, async (target) => {
        const { experiment: e } = await callHub<ExperimentResponse>(target, 'GET', `/api/v1/experiments/${encodeURIComponent(id)}`);
        return flags.json ? json(e) : describeExperiment(e);
      }),
    );
  withApi(experiment.command('stop'))
    .description('stop a running experiment: every host goes back to its own pair')
    .argument('<id>', "the experiment's id")
    .action((id: string, flags: ApiFlags) =>
      run(flags, async (target) => {
        const { experiment: e } = await callHub<ExperimentResponse>(target, 'POST', `/api/v1/experiments/${encodeURIComponent(id)}/stop`, {});
        return `experiment ${e.id} ${e.state}\n`;
      }),
    );

  const pipeline = program.command('pipeline').description("a running hub's pipeline catalog (experimenters upload, viewers read)");
  withApi(pipeline.command('upload'))
    .description('add a template (a new version when the text changed); checked for placeholders and the pipeline policy')
    .argument('<name>', 'the template name (a-z 0-9 -)')
    .argument('<file>', 'the template (collector YAML with the agent\'s {{placeholders}})')
    .option('--description <text>', 'what it does')
    .action((name: string, file: string, flags: ApiFlags & { description?: string }) =>
      run(flags, async (target) => {
        const content = readInput('<file>', file);
        const body = { name, content, ...(flags.description ? { description: flags.description } : {}) };
        const { pipeline: p, created } = await callHub<PipelineResponse>(target, 'POST', '/api/v1/pipelines', body);
        return `${created ? 'uploaded' : 'already in the catalog:'} ${p.name}@sha256:${p.sha256}\n`;
      }),
    );
  withApi(pipeline.command('list'))
    .description('list the catalog: built-ins and every uploaded version')
    .option('--json', 'as JSON')
    .action((flags: ApiFlags) =>
      run(flags, async (target) => {
        const { pipelines } = await callHub<PipelineListResponse>(target, 'GET', '/api/v1/pipelines');
        if (flags.json) return json(pipelines);
        return table([
          ['NAME', 'SHA256', 'BY', 'UPLOADED', 'USED BY'],
          ...pipelines.map((p) => [p.name, p.sha256.slice(0, 16), p.builtin ? 'built-in' : p.uploadedBy, p.uploadedAt ?? '-', p.usedBy.join(',') || '-']),
        ]);
      }),
    );
}
