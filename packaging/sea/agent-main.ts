// Entry of the single-executable phoenix-agent (Node's SEA): its pipelines and collector sit beside it.
import path from 'node:path';
import { main } from '../../agent/cli.js';
import { HOME_ENV } from '../../common/paths.js';
import { exitOnSignals } from '../../common/signals.js';

process.env[HOME_ENV] ??= path.dirname(process.execPath);
const shutdown = exitOnSignals('phoenix-agent');
void main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, shutdown }).then((code) => process.exit(code));
