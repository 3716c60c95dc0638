// Spawns one of our TypeScript entry points as a real child process, through the loader tap runs us with.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export function tsLoaderArgs(): string[] {
  if (!process.execArgv.some((arg) => arg.includes('@tapjs/typescript'))) {
    throw new Error("expected tap's TypeScript loader in process.execArgv (run the tests with `npx tap`)");
  }
  return process.execArgv;
}

/** The parent test already type-checked the sources; the child only transpiles them. */
export function spawnTs(script: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [...tsLoaderArgs(), script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', ...options.env },
  });
}
