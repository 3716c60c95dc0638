#!/usr/bin/env node
// Builds (or finds cached) Phoenix's minimal collector: `npm run build:collector [-- --force]`.
import { Command } from 'commander';
import { buildCollector } from './collector-build.js';
import { exitCodeFor } from '../common/cli-exit.js';
import { createLogger } from '../common/logger.js';
import { collectorManifestPath } from '../common/paths.js';

const program = new Command('build-collector')
  .description("Build Phoenix's minimal OpenTelemetry Collector with the Collector Builder; cached by manifest hash")
  .option('--force', 'rebuild even when a cached binary exists')
  .option('--manifest <file>', 'builder manifest', collectorManifestPath())
  .parse();
const flags = program.opts<{ force?: boolean; manifest: string }>();
const logger = createLogger({ name: 'build-collector' });
try {
  const result = await buildCollector({ manifestPath: flags.manifest, logger, force: flags.force ?? false });
  process.stdout.write(`${result.binary}\n`);
} catch (error) {
  process.exit(exitCodeFor('build-collector', error, process.stderr));
}
