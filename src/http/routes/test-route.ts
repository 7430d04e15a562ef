// POST /test: the dry run. Same decision path as /trigger, no journal, no queue, no Slack.
import express, { type Request, type RequestHandler, type Response } from 'express';
import { formToShortForm, parseDryRunBody } from '../../alerts/dry-run-payload.js';
import { checkForwardedBody } from '../auth.js';
import { looksLikeJson, requireContentType, SET_JSON_HEADER } from '../require-content-type.js';
import type { RollbackController } from '../../controller.js';
import { InputError, UnsupportedMediaTypeError } from '../../model/errors.js';
import type { ApiRoute } from '../route-table.js';

export function testRoutes(
  ctl: RollbackController,
  json: RequestHandler,
  limit: number,
): ApiRoute[] {
  const form = express.urlencoded({
    extended: false,
    limit,
    parameterLimit: 200,
    // `curl -d '{...}'` sends JSON as a form; parsed as one it would be a confusing 400.
    verify: (req: Request, res: Response, buf: Buffer) => {
      if (looksLikeJson(buf))
        throw new UnsupportedMediaTypeError(
          `POST /test got a JSON body sent as a form (application/x-www-form-urlencoded): ${SET_JSON_HEADER}`,
        );
      checkForwardedBody(req, res, buf);
    },
  });
  const handlers: RequestHandler[] = [
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
          parsed.error ??
            'invalid dry-run request: send {"alert_name": "...", "labels": {...}}, a form with alert_name and label.NAME fields, or an Alertmanager or Grafana webhook payload',
          parsed.issues,
        );
      }
      const plans = await ctl.dryRun(parsed.payload);
      res.status(200).json({
        dryRun: true,
        cluster: ctl.clusterName ?? null,
        apiServer: ctl.kubeTarget?.server ?? null,
        kubeContext: ctl.kubeTarget?.context ?? null,
        plans,
      });
    },
  ];
  return [
    { method: 'POST', path: '/test', name: 'test', scope: 'api', credential: 'any', handlers },
  ];
}
