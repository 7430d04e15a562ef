/**
 * The controller's external base URL (ROLLBACK_EXTERNAL_URL) as it may appear in a message: its
 * own user:password, query and fragment dropped, no trailing slash. Undefined when unset or not
 * an http(s) URL: a message then says so instead of pointing at an address nobody can reach.
 */
export function controllerUrl(baseUrl: string | undefined): string | undefined {
  if (!baseUrl) return undefined;
  try {
    const url = new URL(baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.href.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

/** Where a job's record is served (GET, with the API's credentials). */
export function jobUrl(jobId: string, baseUrl: string | undefined): string | undefined {
  const base = controllerUrl(baseUrl);
  return base && `${base}/api/admin/rollback/jobs/${encodeURIComponent(jobId)}`;
}
