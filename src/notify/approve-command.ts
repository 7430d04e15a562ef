/**
 * The command an operator runs to approve a held job. Credentials are shell variables, never
 * values: the message must be safe to paste anywhere. A base URL's own user:password part is
 * dropped for the same reason.
 */
export function approveCommand(jobId: string, baseUrl: string | undefined): string {
  return (
    'curl -u "$ROLLBACK_OPERATOR_USER:$ROLLBACK_OPERATOR_SECRET" -X POST ' +
    `${publicBase(baseUrl)}/api/admin/rollback/jobs/${encodeURIComponent(jobId)}/approve`
  );
}

function publicBase(baseUrl: string | undefined): string {
  if (!baseUrl) return '$ROLLBACK_CONTROLLER_URL';
  try {
    const url = new URL(baseUrl);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.href.replace(/\/+$/, '');
  } catch {
    return '$ROLLBACK_CONTROLLER_URL';
  }
}
