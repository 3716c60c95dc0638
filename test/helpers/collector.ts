// The real collector binary for integration tests: the same lookup the agent uses (npm test builds it first).
import { locateCollector } from '../../agent/collector/locate.js';

export function realCollector(): string {
  // Fails loudly rather than skipping: integration tests must run against the real binary.
  return locateCollector({ env: { ...process.env, PATH: process.env.PATH ?? '' } }).path;
}
