import { controllerUrl } from './controller-url.js';

/**
 * The command an operator runs to approve a held job. Credentials are shell variables, never
 * values: the message must be safe to paste anywhere. A base URL's own user:password part is
 * dropped for the same reason.
 */
export function approveCommand(jobId: string, baseUrl: string | undefined): string {
  return (
    'curl -u "$ROLLBACK_OPERATOR_USER:$ROLLBACK_OPERATOR_SECRET" -X POST ' +
    `${controllerUrl(baseUrl) ?? '$ROLLBACK_CONTROLLER_URL'}/api/admin/rollback/jobs/${encodeURIComponent(jobId)}/approve`
  );
}
