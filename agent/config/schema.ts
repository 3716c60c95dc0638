// The agent's config file shape: one zod schema, defaults included, each rule with a message for users.
import { z } from 'zod';
import { durationField as duration } from '../../common/duration-schema.js';
import { criticalPattern, DEFAULT_CRITICAL_PATTERNS } from '../../protocol/critical-patterns.js';
import { ownRecord } from '../../protocol/own-record.js';

export const BUILTIN_VARIANTS = ['baseline', 'optimized-a', 'optimized-b', 'optimized-c'] as const;

const VARIANT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const variantName = z.string().regex(VARIANT_NAME, { error: 'must be a lowercase name of 1-32 letters, digits and dashes' });

const variantSpec = z.union(
  [
    z.enum(BUILTIN_VARIANTS, { error: `must be one of ${BUILTIN_VARIANTS.join(', ')} or {name, pipeline}` }),
    z
      .object({
        name: variantName,
        pipeline: z.string().min(1, { error: 'must be a path to a pipeline template' }),
      })
      .strict(),
  ],
  { error: `must be one of ${BUILTIN_VARIANTS.join(', ')} or an object {name, pipeline}` },
);

const port = z.number({ error: 'must be a port number' }).int({ error: 'must be a whole number' });

export const configSchema = z
  .object({
    host: z
      .object({
        id: z.string().min(1).max(253).optional(),
        kind: z.enum(['vm', 'k8s-node'], { error: "must be 'vm' or 'k8s-node'" }).optional(),
        labels: ownRecord(
          z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/, { error: 'label names are letters, digits, _ . - (max 63)' }),
          z.string().max(256, { error: 'label values are at most 256 characters' }),
          64,
          'labels',
        ).default({}),
      })
      .strict()
      .prefault({}),
    interval: duration('measurement interval', 1000, 3_600_000).prefault('15s'),
    collector: z
      .object({
        binary: z.string().min(1).optional(),
        startTimeout: duration('collector start timeout', 1000, 600_000).prefault('60s'),
        stopGrace: duration('grace period before SIGKILL', 100, 120_000).prefault('10s'),
        healthInterval: duration('collector health check interval', 1000, 300_000).prefault('15s'),
      })
      .strict()
      .prefault({}),
    pipeline: z
      .object({
        collectionInterval: duration('collector scrape interval', 1000, 3_600_000).prefault('10s'),
        metricExpiration: duration('Prometheus exporter metric expiration', 1000, 86_400_000).prefault('1m'),
        rootPath: z.string().regex(/^(\/[^\s"'$]*)?$/, { error: 'must be empty or an absolute path without spaces, quotes or $' }).default(''),
        cpuThreshold: z.number().gt(0).max(64, { error: 'must be a fraction of one core, 0 < x <= 64' }).default(0.05),
        memoryThresholdBytes: z.number().int().min(1).default(256 * 1024 * 1024),
      })
      .strict()
      .prefault({}),
    experiment: z
      .object({
        variants: z
          .tuple([variantSpec, variantSpec], { error: 'must list exactly two variants: [A, B]' })
          .default(['baseline', 'optimized-a']),
        schedule: z.string().min(1).optional(),
        duration: duration('experiment window length', 1000, 86_400_000).optional(),
      })
      .strict()
      .prefault({}),
    critical: z
      .object({
        patterns: z.array(criticalPattern).min(1, { error: 'must list at least one pattern' }).max(500).default([...DEFAULT_CRITICAL_PATTERNS]),
      })
      .strict()
      .prefault({}),
    loss: z
      .object({
        /** Measure each variant's losses against the agent's own /proc reading (false: critical retention only, for the overhead bench). */
        enabled: z.boolean({ error: 'must be true or false' }).default(true),
        /** How many of the host's top CPU and memory consumers each variant is checked for (issue 15). */
        topK: z.number({ error: 'must be a whole number from 1 to 100' }).int({ error: 'must be a whole number from 1 to 100' }).min(1, { error: 'must be a whole number from 1 to 100' }).max(100, { error: 'must be a whole number from 1 to 100' }).default(10),
      })
      .strict()
      .prefault({}),
    ports: z
      .object({
        // 0 = pick free ports at start; otherwise variant i uses base+10*i, +1, +2.
        base: port.min(0).max(65_500, { error: 'must be 0 (automatic) or 1024-65500' }).refine((p) => p === 0 || p >= 1024, {
          error: 'must be 0 (automatic) or 1024-65500',
        }).default(19_100),
      })
      .strict()
      .prefault({}),
    pricing: z
      .object({
        currency: z.literal('USD', { error: "must be 'USD'" }).default('USD'),
        perThousandSeriesMonth: z.number().min(0).max(1_000_000).default(6.5),
        perMillionSamples: z.number().min(0).max(1_000_000).default(0.09),
      })
      .strict()
      .prefault({}),
    otlp: z
      .object({
        endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL such as http://127.0.0.1:4317' }),
        interval: duration('OTLP export interval', 1000, 3_600_000).prefault('15s'),
      })
      .strict()
      .optional(),
    hub: z
      .object({
        url: z.url({ protocol: /^wss?$/, error: 'must be ws:// or wss:// (e.g. wss://hub.example:8080/ws/agent)' }),
        /** A file holding the bearer token (first non-comment line); else $PHOENIX_HUB_TOKEN. */
        tokenFile: z.string().min(1).optional(),
        /** PEM CA bundle to verify a wss:// hub whose certificate the system does not trust. */
        caFile: z.string().min(1).optional(),
        insecureSkipVerify: z.boolean().default(false),
        agentId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, { error: 'must be 1-128 of A-Z a-z 0-9 _ . : -' }).optional(),
        outboxMaxBytes: z.number().int().min(64 * 1024, { error: 'must be at least 64 KiB (65536)' }).default(64 * 1024 * 1024),
        /** Run the experiments the hub assigns (each pushed pipeline checked against the policy first). */
        acceptExperiments: z.boolean({ error: 'must be true or false' }).default(true),
      })
      .strict()
      .optional(),
    /** The agent's /healthz, /readyz and /status (run only; off unless set). */
    health: z
      .object({
        host: z
          .union([z.ipv4(), z.ipv6(), z.literal('localhost')], { error: "must be an IP address such as 127.0.0.1 or 0.0.0.0, or 'localhost'" })
          .default('127.0.0.1'),
        port: port.min(0, { error: 'must be 0-65535' }).max(65_535, { error: 'must be 0-65535' }),
      })
      .strict()
      .optional(),
    stateDir: z.string().min(1).optional(),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
        format: z.enum(['auto', 'json', 'pretty'], { error: "must be 'auto', 'json' or 'pretty'" }).default('auto'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type AgentConfigInput = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
