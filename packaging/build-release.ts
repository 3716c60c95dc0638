#!/usr/bin/env node
// Builds the release directory (single executables + collector + their files): `npm run build:release`.
import { Command } from 'commander';
import { buildCollector } from './collector-build.js';
import { exitCodeFor } from '../common/cli-exit.js';
import { createLogger } from '../common/logger.js';
import { collectorManifestPath } from '../common/paths.js';
import { buildRelease } from './release.js';

const program = new Command('build-release')
  .description('Build phoenix-agent and phoenix-hub as single executables, with the collector, into build/release/')
  .option('--out <dir>', 'output directory (default: build/release)')
  .parse();
const flags = program.opts<{ out?: string }>();
const logger = createLogger({ name: 'build-release' });
try {
  const collector = await buildCollector({ manifestPath: collectorManifestPath(), logger, force: false });
  const release = await buildRelease({ collectorBinary: collector.binary, logger, ...(flags.out ? { outDir: flags.out } : {}) });
  process.stdout.write(`${release.dir}\n`);
} catch (error) {
  process.exit(exitCodeFor('build-release', error, process.stderr));
}
