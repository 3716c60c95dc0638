#!/usr/bin/env node
// phoenix-agent entry point: wires process signals and streams to the CLI library, then exits with its code.
import { main } from './cli.js';

const SHUTDOWN_DEADLINE_MS = 30_000;
const controller = new AbortController();

function onSignal(signal: NodeJS.Signals): void {
  // Started before the async shutdown, so a stuck shutdown cannot keep the process alive.
  setTimeout(() => {
    process.stderr.write(`phoenix-agent: shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms; exiting\n`);
    process.exit(1);
  }, SHUTDOWN_DEADLINE_MS).unref();
  // A second signal means "now".
  const again = () => process.exit(1);
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  controller.abort(signal);
}
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  shutdown: controller.signal,
});
// Everything the CLI started is closed by now; exit explicitly so a stray handle can never keep us alive.
process.exit(code);
