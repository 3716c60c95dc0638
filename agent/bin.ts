#!/usr/bin/env node
// phoenix-agent entry point: wires process signals and streams to the CLI library, then exits with its code.
import { main } from './cli.js';
import { exitOnSignals } from '../common/signals.js';

const shutdown = exitOnSignals('phoenix-agent');
const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, shutdown });
// Everything the CLI started is closed by now; exit explicitly so a stray handle can never keep us alive.
process.exit(code);
