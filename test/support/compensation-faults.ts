import { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/**
 * Test-only, for a test worker: removeOwner fails as Postgres does on a foreign key it cannot satisfy (SQLSTATE 23503),
 * a failure no retry can cure. The product's own interceptor around it turns that into a non-retryable failure.
 */
export const removeOwnerViolatesAConstraint: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      if (Context.current().info.activityType === 'removeOwner') {
        throw Object.assign(new Error('update or delete on table "app_user" violates foreign key constraint'), { code: '23503' });
      }
      return next(input);
    },
  },
});
