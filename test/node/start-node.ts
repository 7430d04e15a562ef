// A node cluster with one demo pod running, for the teardown test: prints what it started as one
// JSON line and waits to be signalled (as `npm run playground` does until Ctrl-C).
import { startNodeCluster } from '../support/kube-node/index.js';
import { demoDeployment } from './support.js';

const cluster = await startNodeCluster();
await cluster.createNamespace('teardown');
await cluster.apply(JSON.stringify(demoDeployment('teardown', 'app', cluster.images.demoV1)));
await cluster.waitRolledOut('Deployment', 'teardown', 'app', 300_000);
const pods = await cluster.http.ok('GET', '/api/v1/namespaces/teardown/pods');
console.log(JSON.stringify({ dir: cluster.dir, pod: pods.items[0].metadata.uid }));
setInterval(() => {}, 60_000);
