// The node suite's demo app: one HTTP server whose version comes from DEMO_VERSION.
// v1 is healthy; v2 serves too but counts every request as an error, which the alert rule sees.
import { createServer } from 'node:http';

const version = process.env.DEMO_VERSION ?? 'v1';
const broken = version === 'v2';
let requests = 0;

createServer((req, res) => {
  if (req.url === '/metrics') {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(
      `# TYPE demo_app_info gauge\ndemo_app_info{version="${version}"} 1\n` +
        `# TYPE demo_app_errors gauge\ndemo_app_errors ${broken ? 1 : 0}\n` +
        `# TYPE demo_app_requests_total counter\ndemo_app_requests_total ${requests}\n`,
    );
    return;
  }
  requests += 1;
  res.end(`demo app ${version}\n`);
}).listen(8080, () => console.log(`demo app ${version} on :8080`));
process.on('SIGTERM', () => process.exit(0));
