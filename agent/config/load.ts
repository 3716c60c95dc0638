// Loads the agent's YAML config, validates it against the schema and resolves what the file leaves open.
import { readFileSync, existsSync } from 'node:fs';
import { hostname, homedir } from 'node:os';
import path from 'node:path';
import cron from 'node-cron';
import { readYamlMapping } from '../../common/yaml-file.js';
import { ConfigError, showValue } from '../../common/errors.js';
import { formatIssue } from '../../common/schema-issue.js';
import { configSchema, BUILTIN_VARIANTS, type ParsedConfig } from './schema.js';
import { pipelinesDir } from '../../common/paths.js';

export interface VariantSpec {
  name: string;
  /** The pipeline template this variant renders. */
  templatePath: string;
  builtin: boolean;
}

export interface HostIdentity {
  id: string;
  kind: 'vm' | 'k8s-node';
  labels: Record<string, string>;
}

export interface HubSettings {
  url: string;
  token: string;
  ca: Buffer | undefined;
  insecureSkipVerify: boolean;
  agentId: string | undefined;
  outboxMaxBytes: number;
  acceptExperiments: boolean;
}

export interface AgentConfig extends Omit<ParsedConfig, 'host' | 'experiment' | 'stateDir' | 'hub'> {
  /** Where the config came from: a file path, or "defaults". */
  source: string;
  host: HostIdentity;
  experiment: { variants: [VariantSpec, VariantSpec]; schedule?: string; durationMs?: number };
  stateDir: string;
  hub: HubSettings | undefined;
}

export interface LoadOptions {
  /** Environment used for defaults (host id, kind, state dir); defaults to process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Reads and validates `file`; with no file, returns the defaults. Throws ConfigError naming the file, field and value. */
export function loadConfig(file: string | undefined, options: LoadOptions = {}): AgentConfig {
  if (file === undefined) return resolveConfig({}, 'defaults', process.cwd(), options);
  const raw = readYamlMapping(file);
  return resolveConfig(raw, file, path.dirname(path.resolve(file)), options);
}

/** Validates an already-parsed object (from a file or a test) and resolves defaults. */
export function resolveConfig(raw: unknown, source: string, baseDir: string, options: LoadOptions = {}): AgentConfig {
  const env = options.env ?? process.env;
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(formatIssue(source, result.error.issues[0]!, raw));
  const parsed = result.data;

  const variants = parsed.experiment.variants.map((spec, index) => resolveVariant(spec, index, source, baseDir, env)) as [
    VariantSpec,
    VariantSpec,
  ];
  if (variants[0].name === variants[1].name) {
    throw new ConfigError(`${source}: experiment.variants must name two different variants, got '${variants[0].name}' twice`);
  }
  const { schedule, duration } = parsed.experiment;
  if (schedule !== undefined && !cron.validate(schedule)) {
    throw new ConfigError(`${source}: experiment.schedule must be a cron expression such as '0 * * * *', got ${showValue(schedule)}`);
  }
  if ((schedule === undefined) !== (duration === undefined)) {
    throw new ConfigError(`${source}: experiment.schedule and experiment.duration go together: set both or neither`);
  }
  if (parsed.pipeline.metricExpiration < parsed.pipeline.collectionInterval * 2) {
    throw new ConfigError(
      `${source}: pipeline.metricExpiration must be at least twice pipeline.collectionInterval, or series vanish between scrapes`,
    );
  }

  return {
    ...parsed,
    source,
    host: {
      id: parsed.host.id ?? env.PHOENIX_HOST_ID ?? hostname(),
      kind: parsed.host.kind ?? (env.KUBERNETES_SERVICE_HOST ? 'k8s-node' : 'vm'),
      labels: parsed.host.labels,
    },
    experiment: {
      variants,
      ...(schedule === undefined ? {} : { schedule }),
      ...(duration === undefined ? {} : { durationMs: duration }),
    },
    stateDir: parsed.stateDir ? path.resolve(baseDir, parsed.stateDir) : defaultStateDir(env),
    hub: parsed.hub ? resolveHub(parsed.hub, source, baseDir, env) : undefined,
  };
}

function resolveHub(hub: NonNullable<ParsedConfig['hub']>, source: string, baseDir: string, env: NodeJS.ProcessEnv): HubSettings {
  const readFrom = (field: string, file: string) => {
    const full = path.resolve(baseDir, file);
    try {
      return readFileSync(full);
    } catch (error) {
      throw new ConfigError(`${source}: ${field}: cannot read ${showValue(full)} (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
  };
  let token: string | undefined;
  if (hub.tokenFile !== undefined) {
    token = readFrom('hub.tokenFile', hub.tokenFile)
      .toString('utf8')
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '' && !l.startsWith('#'));
    if (!token) throw new ConfigError(`${source}: hub.tokenFile ${showValue(hub.tokenFile)} holds no token`);
  } else token = env.PHOENIX_HUB_TOKEN?.trim() || undefined;
  if (!token) throw new ConfigError(`${source}: hub.url is set but there is no token: set hub.tokenFile or PHOENIX_HUB_TOKEN`);
  const url = new URL(hub.url);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/ws/agent';
  return {
    url: url.toString(),
    token,
    ca: hub.caFile === undefined ? undefined : readFrom('hub.caFile', hub.caFile),
    insecureSkipVerify: hub.insecureSkipVerify,
    agentId: hub.agentId,
    outboxMaxBytes: hub.outboxMaxBytes,
    acceptExperiments: hub.acceptExperiments,
  };
}

function resolveVariant(
  spec: ParsedConfig['experiment']['variants'][number],
  index: number,
  source: string,
  baseDir: string,
  env: NodeJS.ProcessEnv,
): VariantSpec {
  if (typeof spec === 'string') {
    return { name: spec, templatePath: path.join(pipelinesDir(env), `${spec}.yaml`), builtin: true };
  }
  if ((BUILTIN_VARIANTS as readonly string[]).includes(spec.name)) {
    throw new ConfigError(`${source}: experiment.variants.${index}.name '${spec.name}' is a built-in variant; give yours another name`);
  }
  const templatePath = path.resolve(baseDir, spec.pipeline);
  if (!existsSync(templatePath)) {
    throw new ConfigError(`${source}: experiment.variants.${index}.pipeline: no such file ${showValue(templatePath)}`);
  }
  return { name: spec.name, templatePath, builtin: false };
}

/** systemd's StateDirectory=, then XDG, then ~/.local/state. */
export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.split(':')[0]!;
  if (env.XDG_STATE_HOME) return path.join(env.XDG_STATE_HOME, 'phoenix');
  return path.join(env.HOME ?? homedir(), '.local', 'state', 'phoenix');
}

