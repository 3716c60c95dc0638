#!/usr/bin/env node
// Builds the release, then the container image from it without a container engine: `npm run build:image`.
import { Command } from 'commander';
import path from 'node:path';
import { buildCollector } from './collector-build.js';
import { exitCodeFor } from '../common/cli-exit.js';
import { createLogger } from '../common/logger.js';
import { collectorManifestPath, packageRoot } from '../common/paths.js';
import { buildImage } from './image.js';
import { buildRelease } from './release.js';

const program = new Command('build-image')
  .description('Build the Phoenix container image (OCI layout and archive) into build/image/')
  .option('--repository <name>', 'image name for the reference', 'phoenix')
  .parse();
const flags = program.opts<{ repository: string }>();
const logger = createLogger({ name: 'build-image' });
try {
  const collector = await buildCollector({ manifestPath: collectorManifestPath(), logger, force: false });
  const release = await buildRelease({ collectorBinary: collector.binary, logger });
  const image = buildImage(release, path.join(packageRoot(), 'build', 'image'), flags.repository);
  logger.info({ reference: image.reference, digest: image.manifestDigest, archive: image.archive }, 'image built');
  process.stdout.write(`${image.archive}\n`);
} catch (error) {
  process.exit(exitCodeFor('build-image', error, process.stderr));
}
