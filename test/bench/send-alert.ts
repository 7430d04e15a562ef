// One firing CriticalErrorRate alert for a Deployment, sent to the controller's /trigger the
// way Alertmanager would, timed from just before the POST. It starts a second from now: after
// the bad deploy (API times are whole seconds; an alert in the deploy's own second may predate
// it, and the controller never undoes a revision younger than the alert).
import { alert, payload } from '../support/alerts.js';
import { AUTH } from './controller-process.js';

export async function sendAlert(
  url: string,
  ns: string,
  name: string,
  clock: () => number,
): Promise<{ sent: number; jobId: string } | { failure: string }> {
  const body = JSON.stringify(
    payload([
      alert({
        alertname: 'CriticalErrorRate',
        startsAt: new Date(Date.now() + 1000).toISOString(),
        labels: { namespace: ns, deployment: name },
      }),
    ]),
  );
  const sent = clock();
  const res = await fetch(`${url}/api/admin/rollback/trigger`, {
    method: 'POST',
    headers: { authorization: AUTH, 'content-type': 'application/json' },
    body,
  });
  const answer = (await res.json()) as { decisions?: Array<{ decision: string; jobId?: string }> };
  const d = answer.decisions?.[0];
  if (res.status !== 202 || d?.decision !== 'queued' || !d.jobId)
    return { failure: `${res.status} ${JSON.stringify(answer)}` };
  return { sent, jobId: d.jobId };
}
