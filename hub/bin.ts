#!/usr/bin/env node
// phoenix-hub entry point: wires process signals and streams to the CLI library, then exits with its code.
import { main } from './cli.js';
import { exitOnSignals } from '../common/signals.js';

const shutdown = exitOnSignals('phoenix-hub');
const code = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, shutdown });
process.exit(code);
