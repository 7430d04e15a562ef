// `npm run playground`: the node suite's cluster for a newcomer. A real control plane and node
// (containerd, kubelet, kube-proxy; run as root), the chart installed with the image built from
// the Dockerfile, the demo app on v1, Prometheus and Alertmanager wired as the README says, and a
// Slack stand-in that prints what the controller posts. It prints the commands to break the app
// and watch the rollback, follows the controller's jobs, and removes everything on Ctrl-C.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE_IP, startNodeCluster } from '../support/kube-node/index.js';
import { startSlackSink } from '../support/slack-sink.js';
import { kubectlPath } from '../support/tools.js';
import { loopChartValues, startDemoMonitoring } from './loop-config.js';
import {
  OPERATOR_SECRET,
  RELEASE,
  RELEASE_NS,
  callController,
  demoDeployment,
  installChart,
  serviceUrl,
} from './support.js';

const SHOP = 'shop';
const APP = 'checkout';
const say = (text: string) => console.log(`playground: ${text}`);

say(
  'building or finding the node binaries and images, then starting the cluster (minutes the first time)',
);
const cluster = await startNodeCluster();
const dir = mkdtempSync(join(cluster.dir, 'playground-'));
const sink = await startSlackSink(BRIDGE_IP);
await cluster.createNamespace(SHOP);
say('helm install of the chart');
await installChart(cluster, dir, loopChartValues(cluster.images.controller, SHOP, sink.url));
const service = await serviceUrl(cluster, RELEASE_NS, RELEASE);
const { prometheus, alertmanager } = await startDemoMonitoring(cluster, dir, service, SHOP);
await cluster.apply(JSON.stringify(demoDeployment(SHOP, APP, cluster.images.demoV1, 2)));
await cluster.waitRolledOut('Deployment', SHOP, APP, 300_000);

const env = join(dir, 'env.sh');
writeFileSync(
  env,
  [
    `export KUBECONFIG=${cluster.kubeconfigPath}`,
    `alias kubectl=${kubectlPath()}`,
    `export RC=${service}/api/admin/rollback`,
    `export RC_AUTH=operator:${OPERATOR_SECRET}`,
  ].join('\n') + '\n',
);
console.log(`
The playground is up. In another shell (as root):

  source ${env}
  kubectl -n ${SHOP} get pods -o wide                  # the demo app, v1, two pods
  kubectl -n ${SHOP} set image deployment/${APP} app=${cluster.images.demoV2}   # break it

Then watch: Prometheus fires DemoAppErrors (v2 reports errors), Alertmanager sends it to the
controller, which rolls ${APP} back to v1; the alert resolves and the job's verdict is recovered.

  kubectl -n ${SHOP} get pods -w
  curl -s -u "$RC_AUTH" $RC/jobs                       # the controller's jobs and timelines
  curl -s -u "$RC_AUTH" $RC/status
  curl -s ${prometheus.url}/api/v1/alerts            # Prometheus (HTTP API; built without web UI)
  curl -s ${alertmanager.url}/api/v2/alerts          # Alertmanager

Slack messages and job changes are printed below. Ctrl-C removes everything.
`);

let seen = 0;
const states = new Map<string, string>();
for (;;) {
  for (const m of sink.messages.slice(seen)) say(`Slack: ${JSON.stringify(m.body).slice(0, 300)}`);
  seen = sink.messages.length;
  const r = await callController(service, 'GET', 'jobs', { as: 'operator' }).catch(() => undefined);
  for (const j of (r?.body?.jobs as any[] | undefined) ?? []) {
    const now = `${j.state}${j.verdict ? ` / ${j.verdict}` : ''}`;
    if (states.get(j.id) !== now) say(`job ${j.id} ${j.targetKey}: ${now}`);
    states.set(j.id, now);
  }
  await new Promise((r) => setTimeout(r, 1000));
}
