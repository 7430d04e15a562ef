// POST /trigger: Alertmanager's (or Grafana's) webhook. Decides and journals, answers 202; the
// queue does the work.
import type { RequestHandler, Router } from 'express';
import { parseWebhookPayload } from '../../alerts/parse-webhook-payload.js';
import { onlyPost, requireContentType } from '../require-content-type.js';
import type { RollbackController } from '../../controller.js';
import { InputError } from '../../model/errors.js';

export function mountTrigger(router: Router, ctl: RollbackController, json: RequestHandler): void {
  router.post(
    '/trigger',
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
  );
  router.all('/trigger', onlyPost('/trigger (the Alertmanager webhook)'));
}
