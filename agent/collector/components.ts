// Which processors a collector build has, from `<collector> components`: what a pushed pipeline may use on this host.
import { execFile } from 'node:child_process';
import { parse } from 'yaml';
import { CollectorComponentsError } from '../errors.js';

// One answer per binary path for the process's life: a build does not change its components while it runs.
const cache = new Map<string, Promise<string[]>>();

/**
 * The names of the binary's processors (`batch`, `transform`, …). Cached per path; a failure is not cached, so a
 * later call asks again. Rejects with CollectorComponentsError when the command fails, times out or prints no list.
 */
export function collectorProcessors(binary: string, timeoutMs = 30_000): Promise<string[]> {
  let answer = cache.get(binary);
  if (answer === undefined) {
    answer = listProcessors(binary, timeoutMs);
    cache.set(binary, answer);
    answer.catch(() => cache.delete(binary));
  }
  return answer;
}

function listProcessors(binary: string, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['components'], { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) {
        const why = error.killed ? `did not finish within ${timeoutMs} ms` : `failed (${error.code ?? error.signal ?? error.message})`;
        const said = stderr.trim().split('\n').pop() ?? '';
        reject(new CollectorComponentsError(binary, said === '' ? why : `${why}: ${said.slice(0, 300)}`, { cause: error }));
        return;
      }
      try {
        resolve(processorNames(binary, stdout));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** The `name` of each item of the top-level `processors:` list of `binary components` output; throws on any other shape. */
export function processorNames(binary: string, output: string): string[] {
  const refuse = (why: string, cause?: unknown) => new CollectorComponentsError(binary, `printed no list of processors: ${why}`, { cause });
  let doc: { processors?: unknown } | null;
  try {
    doc = parse(output) as { processors?: unknown } | null;
  } catch (cause) {
    throw refuse((cause as Error).message.split('\n')[0]!, cause);
  }
  const list = doc?.processors;
  if (!Array.isArray(list)) throw refuse('no top-level processors: list');
  return list.map((item, i) => {
    const name = (item as { name?: unknown } | null)?.name;
    if (typeof name !== 'string' || name === '') throw refuse(`processors[${i}] has no name`);
    return name;
  });
}
