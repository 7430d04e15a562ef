// Every Kubernetes call of the process shares one keep-alive TLS connection (the client library
// alone opens a new one per call), and a rotated client certificate is used from the next call
// on. Seen from a local TLS API server that counts handshakes and reads each client certificate.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { connectKube } from '../../src/kube/connect-kube.js';
import type { KubeClient } from '../../src/kube/kube-client.js';
import { makeCerts, makeClientCert } from '../support/kube-cluster/certs.js';

const DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'api', namespace: 'shop', resourceVersion: '7' },
  spec: { selector: { matchLabels: { app: 'api' } }, template: { metadata: {}, spec: {} } },
};

describe('one keep-alive connection to the API server', () => {
  let dir: string;
  let server: Server;
  let client: KubeClient;
  /** The client certificate's CN of each TLS connection, in order. */
  const connections: string[] = [];
  let certs: { current: { cert: string; key: string }; second: { cert: string; key: string } };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kube-keep-alive-'));
    const ca = makeCerts(dir);
    const first = makeClientCert(dir, 'first');
    const second = makeClientCert(dir, 'second');
    // The kubeconfig names these paths; rotating the credentials rewrites the files.
    const current = { cert: join(dir, 'client.crt'), key: join(dir, 'client.key') };
    copyFileSync(first.cert, current.cert);
    copyFileSync(first.key, current.key);
    certs = { current, second };
    server = createServer(
      {
        key: readFileSync(ca.serverKey),
        cert: readFileSync(ca.serverCert),
        ca: readFileSync(ca.caCert),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        res.setHeader('content-type', 'application/json');
        if (req.url?.startsWith('/version')) res.end('{"gitVersion":"v1.35.4"}');
        else if (req.url?.includes('/replicasets'))
          res.end('{"kind":"ReplicaSetList","apiVersion":"apps/v1","items":[]}');
        else res.end(JSON.stringify(DEPLOYMENT));
      },
    );
    server.on('secureConnection', (socket: TLSSocket) =>
      connections.push(String(socket.getPeerCertificate().subject?.CN ?? '')),
    );
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as AddressInfo).port;
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'local',
            cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority': ca.caCert },
          },
        ],
        users: [
          {
            name: 'me',
            user: { 'client-certificate': current.cert, 'client-key': current.key },
          },
        ],
        contexts: [{ name: 'local', context: { cluster: 'local', user: 'me' } }],
        'current-context': 'local',
      }),
    );
    const kube = connectKube({ env: { KUBECONFIG: kubeconfig }, requestTimeoutMs: 30_000 });
    assert.ok('client' in kube, 'reason' in kube ? kube.reason : '');
    client = kube.client;
  });

  after(() => {
    client?.close();
    server?.closeAllConnections();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('six calls of different kinds open one TLS connection', async () => {
    const ref = { kind: 'Deployment', namespace: 'shop', name: 'api' } as const;
    assert.equal((await client.readWorkload(ref)).metadata.resourceVersion, '7');
    await client.listReplicaSets('shop', 'app=api');
    assert.equal(await client.version(30_000), 'v1.35.4');
    await client.readWorkload(ref);
    await client.listReplicaSets('shop', 'app=api');
    await client.readWorkload(ref);
    assert.deepEqual(connections, ['first']);
  });

  test('a rotated client certificate is used from the next call, on a new connection', async () => {
    copyFileSync(certs.second.cert, certs.current.cert);
    copyFileSync(certs.second.key, certs.current.key);
    const ref = { kind: 'Deployment', namespace: 'shop', name: 'api' } as const;
    await client.readWorkload(ref);
    await client.readWorkload(ref);
    assert.deepEqual(connections, ['first', 'second']);
  });
});
