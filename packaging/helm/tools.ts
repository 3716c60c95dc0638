// The Go-module tools the chart checks need, installed once into Phoenix's cache (outside git):
// helm itself, and the Kubernetes API's OpenAPI schemas as published in the k8s.io/kubernetes module.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { PackagingToolError } from '../errors.js';
import { cacheRoot } from '../../agent/collector/cache.js';

/** Pinned: the chart is checked with this helm and against this Kubernetes release's API. */
export const HELM_MODULE = 'helm.sh/helm/v3/cmd/helm';
export const HELM_VERSION = 'v3.22.0';
export const KUBERNETES_VERSION = 'v1.36.3';

/** `go install module@version` into the cache; returns the binary (built once, minutes on 2 cores). */
export function helmBinary(env: NodeJS.ProcessEnv = process.env): string {
  const dir = path.join(cacheRoot(env), 'tools', `helm-${HELM_VERSION}`);
  const binary = path.join(dir, 'helm');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  execFileSync('go', ['install', `${HELM_MODULE}@${HELM_VERSION}`], { env: { ...env, GOBIN: dir, CGO_ENABLED: '0' }, stdio: ['ignore', 'ignore', 'inherit'] });
  return binary;
}

/** The directory of the Kubernetes API's OpenAPI v3 documents, from the Go module cache. */
export function kubernetesSpecDir(env: NodeJS.ProcessEnv = process.env): string {
  const out = execFileSync('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${KUBERNETES_VERSION}`], { env, encoding: 'utf8' });
  const dir = (JSON.parse(out) as { Dir?: string; Error?: string });
  if (!dir.Dir) throw new PackagingToolError(`cannot download k8s.io/kubernetes@${KUBERNETES_VERSION}: ${dir.Error ?? 'no directory'}`);
  return path.join(dir.Dir, 'api', 'openapi-spec', 'v3');
}
