// Workloads on the fake cluster and jobs over the API, as the reliability scenarios use them.
import type { FakeKube } from '../../support/fake-kube/index.js';
import { until } from '../../support/until.js';

export type Call = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: any }>;

/** A Deployment with two revisions (v1 then v2), settled: something to roll back. */
export async function deployedTwice(fake: FakeKube, ns: string, name: string): Promise<void> {
  await fake.createDeployment(ns, name, { image: `${ns}/${name}:v1` });
  await fake.settle();
  await fake.setImage('Deployment', ns, name, `${ns}/${name}:v2`);
  await fake.settle();
}

export function image(fake: FakeKube, ns: string, name: string): string {
  const d = fake.get('Deployment', ns, name);
  return d.spec.template.spec.containers[0].image as string;
}

/**
 * A startsAt just after now: revisions created before it count as the alert's cause (the
 * controller skips revisions created after the alert started). Whole seconds later, because the
 * API's creationTimestamp has second resolution.
 */
export function startsNow(offsetMs = 1000): string {
  return new Date(Date.now() + offsetMs).toISOString();
}

/** Waits until the job is in one of `states`; returns it. */
export async function jobIn(call: Call, id: string, states: string[], ms = 15_000): Promise<any> {
  let job: any;
  await until(
    async () => {
      const r = await call('GET', `jobs/${id}`);
      job = r.body;
      return r.status === 200 && states.includes(job.state as string);
    },
    ms,
    `job ${id} in ${states.join('|')} (last: ${job?.state} ${job?.reason ?? ''})`,
  );
  return job;
}

export async function allJobs(call: Call): Promise<any[]> {
  return (await call('GET', 'jobs?limit=1000')).body.jobs as any[];
}
