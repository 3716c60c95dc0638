// The critical process patterns: the default list, and the one rule every pattern must pass, wherever it comes from
// (an agent's config file, an experiment's definition at the hub, an assignment the hub pushes to an agent).
import { z } from 'zod';

/** Processes whose absence from a pipeline's output is a loss. Anchored: each must match the whole name. */
export const DEFAULT_CRITICAL_PATTERNS: readonly string[] = [
  'sshd',
  'systemd',
  'systemd-journald',
  'systemd-logind',
  'systemd-networkd',
  'systemd-resolved',
  'kubelet',
  'kube-proxy',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'etcd',
  'containerd',
  'containerd-shim(-runc-v2)?',
  'dockerd',
  'crio',
  'cron',
  'crond',
  'chronyd',
  'postgres',
  'mysqld',
  'mongod',
  'redis-server',
  'nginx',
  'haproxy',
  'envoy',
];

// RE2 (the collector) and JavaScript (Phoenix) must read a pattern alike: no lookaround, no backreferences.
const NON_PORTABLE_REGEX = /\(\?<?[=!]|\\[1-9]|\\k</;
// Patterns are rendered into collector YAML and OTTL string literals; these characters would need
// quoting rules of their own there (use \s or \x23 to match a space or '#').
const UNSAFE_IN_PIPELINE = /[\s"'`#]/;

/** One pattern: anchored when matched, portable between RE2 and JavaScript, safe to render into YAML and OTTL. */
export const criticalPattern = z
  .string({ error: 'must be a regular expression string' })
  .min(1, { error: 'must not be empty' })
  .max(256, { error: 'must be at most 256 characters' })
  .superRefine((pattern, ctx) => {
    if (UNSAFE_IN_PIPELINE.test(pattern)) {
      ctx.addIssue({ code: 'custom', message: "must not contain spaces, quotes, backticks or '#' (write \\s or \\x23 instead)" });
      return;
    }
    if (NON_PORTABLE_REGEX.test(pattern)) {
      ctx.addIssue({ code: 'custom', message: 'uses lookaround or a backreference, which the collector (RE2) does not support' });
      return;
    }
    try {
      new RegExp(`^(?:${pattern})$`);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `is not a valid regular expression (${(error as Error).message})` });
    }
  });

