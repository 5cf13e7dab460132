import type { ActivityOptions } from '@temporalio/workflow';

/** The account workflows' database steps: short transactions, retried until the database answers. */
export const ACCOUNT_DATABASE_STEPS: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/** A mail server that is down for minutes is retried; past that the mail goes on the operators' list, not lost. */
export const ACCOUNT_MAIL: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
};
