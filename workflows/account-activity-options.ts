import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';

/** The account workflows' database steps: short transactions, retried until the database answers. */
export const ACCOUNT_DATABASE_STEPS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/**
 * The same steps as local activities, where a workflow runs several in a row (a verification's opening): each is one
 * short transaction, so it runs inside the workflow task instead of costing a server round trip. Retries wait on
 * workflow timers, so the workflow stays queryable between attempts.
 */
export const ACCOUNT_LOCAL_DATABASE_STEPS: LocalActivityOptions = {
  ...ACCOUNT_DATABASE_STEPS,
  localRetryThreshold: '500 milliseconds',
};

/** A mail server that is down for minutes is retried; past that the mail goes on the operators' list, not lost. */
export const ACCOUNT_MAIL: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
};
