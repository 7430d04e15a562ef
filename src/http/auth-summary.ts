// Which credentials are configured, said where an operator looks (/readyz, /status, the start-up
// line): without a webhook secret every protected route answers 503, which is easy to miss.
export interface AuthSummary {
  webhookSecret: string;
  operatorSecret: string;
}

export function authSummary(c: {
  webhookSecret: string | undefined;
  operatorSecret: string | undefined;
}): AuthSummary {
  return {
    webhookSecret: c.webhookSecret
      ? 'set'
      : 'not set: protected routes answer 503; set ROLLBACK_WEBHOOK_SECRET or ROLLBACK_WEBHOOK_SECRET_FILE',
    operatorSecret: c.operatorSecret
      ? 'set'
      : 'not set: approve and resume answer 503; set ROLLBACK_OPERATOR_SECRET or ROLLBACK_OPERATOR_SECRET_FILE',
  };
}
