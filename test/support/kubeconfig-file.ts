// A kubeconfig file with two contexts on two (unreachable) API servers, for tests of which
// cluster the controller names and patches through. The token is a placeholder, never a secret.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const STAGING_SERVER = 'https://127.0.0.1:1';
export const PROD_SERVER = 'https://127.0.0.2:2';

export function twoContextKubeconfig(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rc-kubeconfig-'));
  const path = join(dir, 'config');
  writeFileSync(
    path,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'staging',
      clusters: [
        { name: 'staging-cluster', cluster: { server: STAGING_SERVER } },
        { name: 'prod-cluster', cluster: { server: PROD_SERVER } },
      ],
      users: [{ name: 'u', user: { token: 'placeholder-token' } }],
      contexts: [
        { name: 'staging', context: { cluster: 'staging-cluster', user: 'u' } },
        { name: 'prod-eu', context: { cluster: 'prod-cluster', user: 'u' } },
      ],
    }),
  );
  return path;
}
