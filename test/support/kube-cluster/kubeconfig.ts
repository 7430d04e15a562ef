// Kubeconfig files for the test cluster: CA-verified server, a bearer token user.
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export function writeKubeconfig(
  path: string,
  o: { server: string; caPem: string; token: string; user: string; namespace?: string },
): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'test-cluster',
        cluster: {
          server: o.server,
          'certificate-authority-data': Buffer.from(o.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: o.user, user: { token: o.token } }],
    contexts: [
      {
        name: 'test-cluster',
        context: { cluster: 'test-cluster', user: o.user, namespace: o.namespace ?? 'default' },
      },
    ],
    'current-context': 'test-cluster',
    preferences: {},
  };
  writeFileSync(path, stringify(config), { mode: 0o600 });
  return path;
}
