// A self-signed certificate for 127.0.0.1, made by openssl in a temp dir removed in teardown.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';

/** Paths of the certificate and its key (EC P-256, valid a day, SAN IP:127.0.0.1). */
export async function makeTestCertificate(t: Test): Promise<{ dir: string; cert: string; key: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { dir, cert, key };
}
