import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { deterministicDatabaseFailure } from '../src/db/database-errors';
import { storableText } from '../src/domain/storable-text';

const MESSAGE_LIMIT = 1000;

/**
 * An activity whose database write fails on the data it carries would otherwise be retried for ever (compensations
 * and closing writes have no attempt limit): such a failure is raised non-retryable instead, so the workflow decides
 * what to do with it. The message is made storable, because workflows record it.
 */
const failDeterministicDatabaseErrors: ActivityInboundCallsInterceptor = {
  async execute(input, next) {
    try {
      return await next(input);
    } catch (error) {
      const failure = deterministicDatabaseFailure(error);
      if (!failure) throw error;
      throw ApplicationFailure.create({ type: failure.type, message: storableText(failure.message, MESSAGE_LIMIT), nonRetryable: true });
    }
  },
};

export const databaseFailureInterceptor: ActivityInterceptorsFactory = () => ({ inbound: failDeterministicDatabaseErrors });
