// POST /trigger: Alertmanager's (or Grafana's) webhook. Decides and journals, answers 202; the
// queue does the work.
import type { RequestHandler } from 'express';
import { parseWebhookPayload } from '../../alerts/parse-webhook-payload.js';
import { requireContentType } from '../require-content-type.js';
import type { RollbackController } from '../../controller.js';
import { InputError } from '../../model/errors.js';
import type { ApiRoute } from '../route-table.js';

export function triggerRoutes(ctl: RollbackController, json: RequestHandler): ApiRoute[] {
  return [
    {
      method: 'POST',
      path: '/trigger',
      name: 'trigger',
      scope: 'api',
      credential: 'any',
      handlers: [
        requireContentType(
          ['application/json'],
          'POST /trigger takes application/json (the Alertmanager or Grafana webhook payload)',
        ),
        json,
        async (req, res) => {
          const parsed = parseWebhookPayload(req.body);
          if (!parsed.ok) throw new InputError(parsed.error, parsed.issues);
          const decisions = await ctl.trigger(parsed.payload, req.log);
          res.status(202).json({ decisions });
        },
      ],
    },
  ];
}
