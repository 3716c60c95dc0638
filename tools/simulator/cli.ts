// Command line for the process simulator: parse flags, start it, print one ready line, run until SIGTERM/SIGINT.
import { Command, InvalidArgumentError } from 'commander';
import { exitCodeFor } from '../../common/cli-exit.js';
import { UsageError } from '../../common/errors.js';
import { createLogger, type Logger } from '../../common/logger.js';
import { startSimulator, validateSimulatorOptions, type OptionLabels, type Simulator, type SimulatorOptions } from './simulator.js';

/** The slice of `process` the CLI uses, injectable so a test can emit signals and catch exit(). */
export interface CliProcess {
  once(event: 'SIGTERM' | 'SIGINT', listener: () => void): unknown;
  on(event: 'exit', listener: () => void): unknown;
  removeListener(event: 'SIGTERM' | 'SIGINT' | 'exit', listener: () => void): unknown;
  exit(code: number): void;
}

export interface CliDeps {
  stdout?: { write(text: string): unknown };
  stderr?: { write(text: string): unknown };
  process?: CliProcess;
  logger?: Logger;
}

const FLAG_LABELS: OptionLabels = {
  count: '--count',
  criticalNames: '--critical',
  namePrefix: '--prefix',
  cpuBurners: '--burners',
  burnDutyPercent: '--duty',
  churnEveryMs: '--churn-every',
  churnFraction: '--churn-fraction',
  dir: '--dir',
};
const SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** How long close() may take after a signal before the CLI kills synchronously and exits 1. */
const SHUTDOWN_DEADLINE_MS = 10_000;

interface Flags {
  count: number;
  critical?: string[];
  prefix?: string;
  burners?: number;
  duty?: number;
  churnEvery?: number;
  churnFraction?: number;
  dir?: string;
}

/** Parses argv (user arguments only), runs the simulator until a signal, and returns the exit code: 0, 1 or 2 for bad flags. */
export async function main(argv: string[], deps: CliDeps = {}): Promise<number> {
  const stdout = deps.stdout ?? process.stdout;
  const stderr = deps.stderr ?? process.stderr;
  const proc = deps.process ?? process;
  let options: SimulatorOptions;
  try {
    options = parseFlags(argv, stdout, stderr);
  } catch (error) {
    return exitCodeFor('phoenix-simulator', error, stderr);
  }
  const logger = deps.logger ?? createLogger({ name: 'phoenix-simulator' });

  let simulator: Simulator | undefined;
  let stopping = false;
  const startAbort = new AbortController();
  let requestStop: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve));
  const onSecondSignal = (): void => {
    simulator?.closeSync();
    proc.exit(1);
  };
  const onFirstSignal = (): void => {
    for (const signal of SIGNALS) {
      proc.removeListener(signal, onFirstSignal);
      proc.once(signal, onSecondSignal);
    }
    stopping = true;
    startAbort.abort();
    requestStop();
  };
  const onExit = (): void => simulator?.closeSync();
  // Listen before starting, so a signal during a long start still ends in a clean close.
  for (const signal of SIGNALS) proc.once(signal, onFirstSignal);
  proc.on('exit', onExit);
  try {
    try {
      simulator = await startSimulator({ ...options, logger, signal: startAbort.signal });
    } catch (error) {
      // A signal during the start aborted it, and startSimulator removed what it had made: a clean stop.
      return error === startAbort.signal.reason ? 0 : exitCodeFor('phoenix-simulator', error, stderr);
    }
    if (!stopping) {
      const pids = simulator.processes().map((p) => p.pid);
      stdout.write(`${JSON.stringify({ ready: true, pids, dir: simulator.dir })}\n`);
    }
    await stopRequested;
    logger.info('signal received; stopping simulated processes');
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs: SHUTDOWN_DEADLINE_MS }, 'close did not finish in time; killing');
      onSecondSignal();
    }, SHUTDOWN_DEADLINE_MS);
    try {
      await simulator.close();
    } finally {
      clearTimeout(deadline);
    }
    return 0;
  } finally {
    for (const signal of SIGNALS) {
      proc.removeListener(signal, onFirstSignal);
      proc.removeListener(signal, onSecondSignal);
    }
    proc.removeListener('exit', onExit);
  }
}

function parseFlags(argv: string[], stdout: { write(text: string): unknown }, stderr: { write(text: string): unknown }): SimulatorOptions {
  const program = new Command('phoenix-simulator')
    .description('Run N real processes with distinct executable names until SIGTERM/SIGINT.')
    .requiredOption('--count <n>', 'total processes, critical ones included (1..5000)', parseNumber)
    .option('--critical <names>', 'comma-separated executable names to include, e.g. sshd,postgres', (value: string) => value.split(','))
    .option('--prefix <prefix>', 'name prefix of the other processes (default phx-sim)')
    .option('--burners <n>', 'how many non-critical processes burn CPU', parseNumber)
    .option('--duty <percent>', 'approximate CPU share per burner, 1..100', parseNumber)
    .option('--churn-every <ms>', 'replace some processes with newly named ones this often', parseNumber)
    .option('--churn-fraction <f>', 'fraction of non-critical processes replaced each time (default 0.1)', parseNumber)
    .option('--dir <dir>', 'existing directory for the executable links (default: a temp dir, removed at exit)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => stdout.write(text), writeErr: (text) => stderr.write(text) });
  program.parse(argv, { from: 'user' });
  const flags = program.opts<Flags>();
  if (flags.churnFraction !== undefined && flags.churnEvery === undefined) {
    throw new UsageError(`--churn-fraction ${flags.churnFraction} needs --churn-every`);
  }
  const options: SimulatorOptions = {
    count: flags.count,
    criticalNames: flags.critical,
    namePrefix: flags.prefix,
    cpuBurners: flags.burners,
    burnDutyPercent: flags.duty,
    churn: flags.churnEvery === undefined ? undefined : { everyMs: flags.churnEvery, fraction: flags.churnFraction ?? 0.1 },
    dir: flags.dir,
  };
  validateSimulatorOptions(options, FLAG_LABELS);
  return options;
}

function parseNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number)) throw new InvalidArgumentError('Not a number.');
  return number;
}
