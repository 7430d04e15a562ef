// POST /test: the dry run. Same decision path as /trigger, no journal, no queue, no Slack.
import express, { type RequestHandler, type Router } from 'express';
import { formToShortForm, parseDryRunBody } from '../../alerts/dry-run-payload.js';
import { requireContentType } from '../require-content-type.js';
import type { RollbackController } from '../../controller.js';
import { InputError } from '../../model/errors.js';

export function mountTest(
  router: Router,
  ctl: RollbackController,
  json: RequestHandler,
  limit: number,
): void {
  const form = express.urlencoded({ extended: false, limit, parameterLimit: 200 });
  router.post(
    '/test',
    requireContentType(
      ['application/json', 'application/x-www-form-urlencoded'],
      'POST /test takes application/json or application/x-www-form-urlencoded',
    ),
    json,
    form,
    async (req, res) => {
      const body: unknown = req.is('application/x-www-form-urlencoded')
        ? formToShortForm(req.body as Record<string, unknown>)
        : req.body;
      const parsed = parseDryRunBody(body, Date.now());
      if (!parsed.ok) {
        throw new InputError(
          'invalid dry-run request: send {"alert_name": "...", "labels": {...}}, a form with alert_name and label.NAME fields, or an Alertmanager payload',
          parsed.issues,
        );
      }
      const plans = await ctl.dryRun(parsed.payload);
      res.status(200).json({ dryRun: true, plans });
    },
  );
}
