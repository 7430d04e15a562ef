// GET /status, GET /jobs, GET /jobs/:id, GET /decisions, and the operator actions: approve, pause, resume. Each
// route names its own credential here; the route table applies it (and, on a follower, forwards).
import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { RollbackController } from '../../controller.js';
import { DECISION_KINDS } from '../../model/decision.js';
import { InputError, NotFoundError } from '../../model/errors.js';
import type { Principal } from '../auth.js';
import type { AuthSummary } from '../auth-summary.js';
import type { ApiRoute } from '../route-table.js';
import { statusView } from '../status-view.js';

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  state: z
    .enum(['awaiting_approval', 'queued', 'running', 'succeeded', 'failed', 'skipped', 'expired'])
    .optional(),
  target: z.string().max(300).optional(),
});
const decisionQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  decision: z.enum(DECISION_KINDS).optional(),
  target: z.string().max(300).optional(),
  alertname: z.string().max(300).optional(),
});
const pauseBody = z.object({ reason: z.string().max(500).optional() }).optional();
const JOB_ID = /^[a-z0-9-]{1,64}$/;

function principal(res: { locals: Record<string, unknown> }): string {
  return (res.locals['principal'] as Principal | undefined)?.user ?? 'unknown';
}

export function jobRoutes(
  ctl: RollbackController,
  json: RequestHandler,
  auth?: () => AuthSummary,
): ApiRoute[] {
  const optionalJson: RequestHandler = (req, res, next) =>
    req.headers['content-length'] === '0' || !req.headers['content-type']
      ? next()
      : json(req, res, next);
  const api = { scope: 'api' } as const;
  return [
    {
      ...api,
      method: 'GET',
      path: '/status',
      name: 'status',
      credential: 'any',
      handlers: [
        async (_req, res) => {
          res.json({ ...(await statusView(ctl)), ...(auth ? { auth: auth() } : {}) });
        },
      ],
    },
    {
      ...api,
      method: 'GET',
      path: '/jobs',
      name: 'jobs',
      credential: 'any',
      handlers: [
        (req, res) => {
          const q = listQuery.safeParse(req.query);
          if (!q.success) throw new InputError('invalid query', q.error.issues);
          const filter = {
            limit: q.data.limit,
            ...(q.data.state ? { state: q.data.state } : {}),
            ...(q.data.target ? { target: q.data.target } : {}),
          };
          res.json({ jobs: ctl.listJobs(filter) });
        },
      ],
    },
    // Recent alert decisions with their reasons (a bounded ring since start), newest first.
    {
      ...api,
      method: 'GET',
      path: '/decisions',
      name: 'decisions',
      credential: 'any',
      handlers: [
        (req, res) => {
          const q = decisionQuery.safeParse(req.query);
          if (!q.success)
            throw new InputError(
              `invalid query: limit is 1-1000, decision one of ${DECISION_KINDS.join(', ')}`,
              q.error.issues,
            );
          const { limit, decision, target, alertname } = q.data;
          res.json({
            capacity: ctl.decisions.capacity,
            decisions: ctl.listDecisions({
              limit,
              ...(decision ? { decision } : {}),
              ...(target ? { target } : {}),
              ...(alertname ? { alertname } : {}),
            }),
          });
        },
      ],
    },
    {
      ...api,
      method: 'GET',
      path: '/jobs/:id',
      params: { id: JOB_ID },
      name: 'job',
      credential: 'any',
      handlers: [
        (req, res) => {
          const id = String(req.params['id']);
          const job = ctl.getJob(id);
          if (!job) throw new NotFoundError(`job ${JSON.stringify(id)} not found`);
          res.json(job);
        },
      ],
    },
    {
      ...api,
      method: 'POST',
      path: '/jobs/:id/approve',
      params: { id: JOB_ID },
      name: 'approve',
      credential: 'operator',
      operatorAction: true,
      handlers: [
        async (req, res) => {
          const job = await ctl.approve(String(req.params['id']), principal(res));
          res.status(202).json({ approved: true, paused: ctl.state.paused, job });
        },
      ],
    },
    {
      ...api,
      method: 'POST',
      path: '/pause',
      name: 'pause',
      // The safe direction: Alertmanager's credential too.
      credential: 'any',
      operatorAction: true,
      handlers: [
        optionalJson,
        async (req, res) => {
          const body = pauseBody.safeParse(req.body);
          if (!body.success)
            throw new InputError(
              'invalid pause request: {"reason": "..."} is optional',
              body.error.issues,
            );
          res.json(await ctl.setPaused(true, principal(res), body.data?.reason));
        },
      ],
    },
    {
      ...api,
      method: 'POST',
      path: '/resume',
      name: 'resume',
      credential: 'operator',
      operatorAction: true,
      handlers: [
        async (_req, res) => {
          res.json(await ctl.setPaused(false, principal(res)));
        },
      ],
    },
  ];
}
