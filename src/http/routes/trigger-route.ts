// POST /trigger: Alertmanager's webhook. Decides and journals, answers 202; the queue does the work.
import type { RequestHandler, Router } from 'express';
import { payloadSchema } from '../../alerts/payload-schema.js';
import { requireContentType } from '../require-content-type.js';
import type { RollbackController } from '../../controller.js';
import { InputError } from '../../model/errors.js';

export function mountTrigger(router: Router, ctl: RollbackController, json: RequestHandler): void {
  router.post(
    '/trigger',
    requireContentType(
      ['application/json'],
      'POST /trigger takes application/json (the Alertmanager webhook payload)',
    ),
    json,
    async (req, res) => {
      const parsed = payloadSchema.safeParse(req.body);
      if (!parsed.success) {
        throw new InputError(
          'invalid Alertmanager webhook payload (version "4" expected)',
          parsed.error.issues,
        );
      }
      const decisions = await ctl.trigger(parsed.data);
      res.status(202).json({ decisions });
    },
  );
}
