// One keep-alive connection to the API server for every call. @kubernetes/client-node 1.4's
// KubeConfig.applySecurityAuthentication builds a new https.Agent per request, so each call paid
// a TCP and TLS handshake (upstream kubernetes-client/javascript#2893). This authentication
// method lets the library apply the credentials as usual (token files and exec plugins re-read,
// headers set) and then swaps its fresh, unused agent for one long-lived keep-alive agent built
// with the same TLS material. When that material changes (a rotated client certificate or CA),
// a new agent is built and the old one retired once its in-flight calls are long over.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import type { KubeConfig, RequestContext, SecurityAuthentication } from '@kubernetes/client-node';

/** The TLS options the library puts on its per-request agent; a change means new credentials. */
const MATERIAL = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'];
/** Longer than any call's timeout: the retired agent's sockets close after its calls ended. */
const RETIRE_AFTER_MS = 120_000;

export interface KeepAliveAuth extends SecurityAuthentication {
  /** Agents built so far (1 while the credentials stay the same). */
  readonly agentsBuilt: number;
  /** Closes the pooled connections (shutdown). */
  close(): void;
}

export function keepAliveAuth(kc: KubeConfig): KeepAliveAuth {
  let current: { material: Record<string, unknown>; agent: HttpAgent } | undefined;
  let built = 0;

  const agentFor = (fresh: HttpAgent | undefined): HttpAgent | undefined => {
    // A proxy agent (cluster.proxyUrl) or none at all: keep what the library chose.
    if (!fresh || (fresh.constructor !== HttpsAgent && fresh.constructor !== HttpAgent))
      return fresh;
    const options = (fresh as HttpAgent & { options: AgentOptions }).options as Record<
      string,
      unknown
    >;
    const material = Object.fromEntries(MATERIAL.map((k) => [k, options[k]]));
    if (
      current &&
      current.agent.constructor === fresh.constructor &&
      same(current.material, material)
    )
      return current.agent;
    if (current) retire(current.agent);
    const agent =
      fresh.constructor === HttpsAgent
        ? new HttpsAgent({ ...definedOnly(material), keepAlive: true })
        : new HttpAgent({ keepAlive: true });
    current = { material, agent };
    built++;
    return agent;
  };

  return {
    getName: () => 'kubeconfig authentication over one keep-alive agent',
    async applySecurityAuthentication(context: RequestContext) {
      await kc.applySecurityAuthentication(context);
      const agent = agentFor(context.getAgent());
      if (agent) context.setAgent(agent);
    },
    get agentsBuilt() {
      return built;
    },
    close() {
      current?.agent.destroy();
      current = undefined;
    },
  };
}

function retire(agent: HttpAgent): void {
  setTimeout(() => agent.destroy(), RETIRE_AFTER_MS).unref();
}

function same(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return MATERIAL.every((k) => {
    const x = a[k];
    const y = b[k];
    if (Buffer.isBuffer(x) && Buffer.isBuffer(y)) return x.equals(y);
    if (Array.isArray(x) || Array.isArray(y)) return JSON.stringify(x) === JSON.stringify(y);
    return x === y;
  });
}

function definedOnly(o: Record<string, unknown>): AgentOptions {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
