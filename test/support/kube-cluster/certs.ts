// Certificates and keys for a throwaway control plane, made with the openssl CLI: a CA, the API
// server's serving certificate (loopback and in-cluster names) and the service-account signing key.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClusterCerts {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  saKey: string;
  saPub: string;
  /** PEM text of the CA certificate. */
  caPem: string;
}

function openssl(dir: string, ...args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT')
      throw new Error(
        'openssl is not installed: the cluster tests need it (apt-get install openssl)',
      );
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

/** `extraIps`: more addresses the API server is reached at (a real node's bridge address). */
export function makeCerts(dir: string, extraIps: string[] = []): ClusterCerts {
  const p = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2'];
  openssl(
    dir,
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=rc-test-ca',
  );
  const names = [
    'IP:127.0.0.1',
    'IP:10.96.0.1',
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
    ...extraIps.map((ip) => `IP:${ip}`),
  ];
  openssl(
    dir,
    'req',
    '-x509',
    ...ec,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-keyout',
    'apiserver.key',
    '-out',
    'apiserver.crt',
    '-subj',
    '/CN=kube-apiserver',
    // A server leaf, not a second CA (req -x509 defaults to CA:TRUE).
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'keyUsage=critical,digitalSignature',
    '-addext',
    'extendedKeyUsage=serverAuth',
    '-addext',
    `subjectAltName=${names.join(',')}`,
  );
  openssl(
    dir,
    'genpkey',
    '-algorithm',
    'EC',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-out',
    'sa.key',
  );
  openssl(dir, 'pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
  return {
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('apiserver.crt'),
    serverKey: p('apiserver.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
    caPem: readFileSync(p('ca.crt'), 'utf8'),
  };
}

/** A client certificate signed by the CA made by makeCerts in `dir` (PEM files `<name>.crt/.key`). */
export function makeClientCert(dir: string, name: string): { cert: string; key: string } {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '2',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:FALSE',
    '-addext',
    'extendedKeyUsage=clientAuth',
  );
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}
