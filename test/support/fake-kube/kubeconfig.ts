// A kubeconfig for the fake: plain http, insecure-skip-tls-verify (client-node wants it for a
// server it cannot verify), a bearer token user and current-context set.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export function writeKubeconfig(server: string, token: string): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-kube-'));
  const path = join(dir, 'kubeconfig');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake-kube', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'fake-kube', user: { token } }],
    contexts: [
      {
        name: 'fake-kube',
        context: { cluster: 'fake-kube', user: 'fake-kube', namespace: 'default' },
      },
    ],
    'current-context': 'fake-kube',
    preferences: {},
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return { dir, path };
}
