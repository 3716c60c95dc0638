// How an experiment's hosts are rolled out: in a stable order drawn from the experiment's id (the same hosts in the
// same waves after a hub restart, a different spread for each experiment), a canary first, then waves of a size.
import { createHash } from 'node:crypto';
import type { ExperimentSpec, HostShare } from './spec.js';

/** A share of `total` hosts: at least one, at most all of them. */
export function shareOf(share: HostShare, total: number): number {
  const n = 'hosts' in share ? share.hosts : Math.ceil((share.percent / 100) * total - 1e-9);
  return Math.min(total, Math.max(1, n));
}

/** The size of each wave, the canary first: 10 hosts, canary 1, waves of 3 → [1, 3, 3, 3]. No hosts, no waves. */
export function waveSizes(total: number, rollout: Pick<ExperimentSpec['rollout'], 'canary' | 'waves'>): number[] {
  if (total <= 0) return [];
  const sizes = [shareOf(rollout.canary, total)];
  const wave = shareOf(rollout.waves, total);
  for (let left = total - sizes[0]!; left > 0; left -= wave) sizes.push(Math.min(wave, left));
  return sizes;
}

/** The rollout order of these agents: by sha256(experiment id, agent id); the same input, the same order. */
export function orderHosts(agentIds: readonly string[], experimentId: string): string[] {
  const key = (id: string) => createHash('sha256').update(experimentId).update('\0').update(id).digest('hex');
  return [...agentIds].map((id) => ({ id, k: key(id) })).sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0)).map((e) => e.id);
}
