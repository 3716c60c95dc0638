// `validate`: renders both pipelines and asks the collector binary itself (`validate --config`) about each.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AgentConfig } from './config/load.js';
import { renderVariants } from './experiment.js';
import type { Logger } from '../common/logger.js';

export interface ValidationResult {
  variant: string;
  templatePath: string;
  ok: boolean;
  error: string | null;
}

/** Runs `<collector> validate --config FILE`; resolves with its combined output and exit code. */
export function collectorValidate(binary: string, configFile: string, timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, ['validate', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.once('error', (error) => resolve({ code: null, output: error.message }));
    child.once('close', (code) => resolve({ code, output }));
  });
}

export async function validatePipelines(config: AgentConfig, binary: string, logger: Logger): Promise<ValidationResult[]> {
  const rendered = await renderVariants(config);
  const dir = await mkdtemp(path.join(tmpdir(), 'phoenix-validate-'));
  try {
    const results: ValidationResult[] = [];
    for (const variant of rendered) {
      const file = path.join(dir, `${variant.name}.yaml`);
      await writeFile(file, variant.config);
      const { code, output } = await collectorValidate(binary, file);
      const error = code === 0 ? null : collectorError(output) || `collector validate exited with ${code}`;
      logger.debug({ variant: variant.name, code }, 'validated');
      results.push({ variant: variant.name, templatePath: variant.plan.source, ok: code === 0, error });
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The collector's error, from its "Error:" line to the end, on one line and bounded. */
export function collectorError(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const start = lines.findIndex((l) => /^Error:/.test(l));
  const text = (start >= 0 ? lines.slice(start) : lines.slice(-1)).join(' ');
  return text.length > 600 ? `${text.slice(0, 599)}…` : text;
}
