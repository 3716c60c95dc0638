// The phoenix .deb as the package tests build it: a release of this checkout with the real collector, packed by packaging/deb.ts.
import path from 'node:path';
import { buildDeb, type Deb } from '../../packaging/deb.js';
import { buildRelease } from '../../packaging/release.js';
import { silentLogger } from '../../common/logger.js';
import { realCollector } from './collector.js';

/** Builds the release under `work/release` and the .deb into `work`. */
export async function buildTestDeb(work: string): Promise<Deb> {
  const release = await buildRelease({ outDir: path.join(work, 'release'), collectorBinary: realCollector(), logger: silentLogger() });
  return buildDeb(release, work);
}
