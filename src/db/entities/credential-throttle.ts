import { EntitySchema } from '@mikro-orm/core';

/** Failed credential checks of one throttle key (a hash: no address or email is stored); see src/db/credential-throttle.ts. */
export class CredentialThrottle {
  key!: string;
  failures!: number;
  lastFailureAt!: Date;
  lockedUntil?: Date | null;
}

export const CredentialThrottleSchema = new EntitySchema<CredentialThrottle>({
  class: CredentialThrottle,
  tableName: 'credential_throttle',
  indexes: [{ name: 'credential_throttle_last_failure_index', properties: ['lastFailureAt'] }],
  properties: {
    key: { type: 'string', length: 64, primary: true },
    failures: { type: 'integer' },
    lastFailureAt: { type: 'datetime' },
    lockedUntil: { type: 'datetime', nullable: true },
  },
});
